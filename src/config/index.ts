export { configAccounts } from "./accounts.js";
export { isHttpUrl, SETTING_BOUNDS, USER_ID_PATTERN } from "./bounds.js";
export { NON_CCXT_BROKERS } from "./broker-ids.js";
export type { Env } from "./env.js";
export {
  credentialFamilies,
  ENV_BROKERS,
  envNamePart,
  expandEnvRefs,
  lookupEnvCredentials,
  parseDotEnv,
  parseEnvBoolean,
  userEnvIds,
} from "./env.js";
export type {
  ConfigErrorCode,
  ConfigProblem,
  ConfigProblemCode,
  ConfigWarning,
  ConfigWarningCode,
} from "./errors.js";
export { ConfigError, formatProblem, formatWarning } from "./errors.js";
export { MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH } from "./files.js";
export type { LoadConfigOptions, LoadedConfig } from "./load.js";
export { loadConfig } from "./load.js";
export type * from "./schemas.js";
export type {
  AccountConfig,
  BrokerAccountConfig,
  Credentials,
  CredentialsExplain,
} from "./types.js";
