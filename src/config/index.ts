export type { Env } from "./env.js";
export {
  credentialFamilies,
  ENV_BROKERS,
  envNamePart,
  expandEnvRefs,
  lookupEnvCredentials,
  parseDotEnv,
} from "./env.js";
export type {
  ConfigErrorCode,
  ConfigProblem,
  ConfigProblemCode,
  ConfigWarning,
  ConfigWarningCode,
} from "./errors.js";
export { ConfigError, formatProblem, formatWarning } from "./errors.js";
export type { LoadConfigOptions, LoadedConfig } from "./load.js";
export { loadConfig } from "./load.js";
export * from "./schemas.js";
export type {
  AccountConfig,
  BrokerAccountConfig,
  Credentials,
  CredentialsExplain,
} from "./types.js";
