/**
 * The starter configuration `init` writes: the platform, one example user, the credential
 * variables the loader reads for them (named by config/env.ts itself, so they cannot drift) and a
 * README.md, since JSON holds no comments. The JSON files carry a `"//"` key pointing to it: the
 * platform and user schemas drop keys they do not know.
 */
import { credentialFamilies } from "../config/index.js";

export interface StarterFile {
  /** Relative to the config directory. */
  path: string;
  text: string;
  /** 0600 for what holds (or will hold) credentials or their names, 0644 for the README. */
  mode: number;
}

/** The accounts of the starter config: the guide's platform brokers and one user. */
const PLATFORM_BROKERS = ["kraken", "coinbase"] as const;
const EXAMPLE_USER = { id: "alice", name: "Alice", broker: "kraken" } as const;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** KEY= and SECRET= lines of the first variable family the loader looks up for an account. */
function credentialLines(broker: string, kind: "platform" | "user", id: string): string[] {
  const families = credentialFamilies(broker, kind, id);
  const first = families[0] as string;
  const order = families.map((family) => `${family}_*`).join(", then ");
  return [
    `# ${kind === "platform" ? "platform" : `user ${id}`} on ${broker} (looked up as ${order})`,
    `${first}_API_KEY=`,
    `${first}_API_SECRET=`,
  ];
}

const COINBASE_NOTE = [
  "# Coinbase: the CDP key name (organizations/.../apiKeys/...) and its private key; a PEM kept on",
  "# one line with literal \\n is read as the PEM. _PEM_CONTENT is read when _API_SECRET is unset.",
];

function envExample(configDir: string): string {
  return [
    "# The credentials show-user-balances reads for the accounts in this directory.",
    `# Copy it to .env in the directory you run show-user-balances from (.env is read from the`,
    `# working directory, not from ${configDir}), keep it private and fill in the values:`,
    `#   cp ${configDir}/.env.example .env && chmod 600 .env`,
    "# then check everything with: show-user-balances doctor",
    "# Variables already set in the environment win over .env. Empty values count as unset.",
    "",
    ...PLATFORM_BROKERS.flatMap((broker) => [
      ...(broker === "coinbase" ? COINBASE_NOTE : []),
      ...credentialLines(broker, "platform", ""),
      "",
    ]),
    ...credentialLines(EXAMPLE_USER.broker, "user", EXAMPLE_USER.id),
    "",
    "# Other users and brokers follow the same pattern: <BROKER>_USER_<ID>_API_KEY and _API_SECRET,",
    "# <BROKER> one of KRAKEN, COINBASE, ALPACA, BINANCE, OKX. OKX also needs _API_PASSPHRASE.",
    "#",
    "# Optional:",
    "# KRAKEN_API_URL=https://...             another origin for a broker (a proxy); any <BROKER>_API_URL",
    "# SHOW_USER_BALANCES_STORE=redis://host:6379/0   the shared cache in Redis (REDIS_PASSWORD=...)",
    "# SHOW_USER_BALANCES_TOKEN=               the dashboard's access token (serve)",
    "# SHOW_USER_BALANCES_NOTIFY_URL=          the alert webhook (instead of --notify, which ps shows)",
    "# SHOW_USER_BALANCES_NOTIFY_AUTHORIZATION=   the webhook's Authorization header",
    "",
  ].join("\n");
}

function readme(configDir: string): string {
  return `# show-user-balances configuration

Written by \`show-user-balances init\`. JSON has no comments, so they are here; the \`"//"\` keys
in the JSON files are notes the loader ignores.

- \`platform.json\`: the platform's own broker accounts (\`name\`, \`brokers\`).
- \`users/<user_id>.json\`: one file per user. Copy \`users/${EXAMPLE_USER.id}.json\` for each user and
  change \`user_id\` (letters, digits, \`_\`, \`-\`, \`.\`, \`@\`), \`name\` and \`brokers\`;
  \`"enabled": false\` keeps a user listed but unqueried.
- A broker entry is \`{ "broker": "<ccxt id>" }\`, optionally with \`"enabled": false\`,
  \`"paper": true\` (Alpaca) or \`"testnet": true\` (Binance, OKX), and \`"apiUrl"\`.
- \`.env.example\`: the credential variables for these accounts. Keys belong in the
  environment or in \`.env\` (in the directory you run the command from, mode 600), not in these
  files. A broker entry can hold \`"credentials": { "apiKey": "\${VAR}", "secret": "\${VAR}" }\`
  references instead; literal keys work too, but then the file must stay \`chmod 600\`.

Files that hold or name credentials are created mode 600 and this directory 700.

Next:

\`\`\`sh
cp ${configDir}/.env.example .env && chmod 600 .env   # then fill in the keys
show-user-balances doctor --config-dir ${configDir}    # checks files, keys, clock and each key against its exchange
show-user-balances --config-dir ${configDir}           # the report
\`\`\`
`;
}

export function starterFiles(configDir: string): StarterFile[] {
  return [
    {
      path: "platform.json",
      text: json({
        "//": "The platform's own broker accounts; keys come from the environment or .env (see README.md here and .env.example).",
        name: "My platform",
        brokers: PLATFORM_BROKERS.map((broker) => ({ broker })),
      }),
      mode: 0o600,
    },
    {
      path: `users/${EXAMPLE_USER.id}.json`,
      text: json({
        "//": "One file per user, named <user_id>.json; copy this one for each user (see ../README.md).",
        user_id: EXAMPLE_USER.id,
        name: EXAMPLE_USER.name,
        enabled: true,
        brokers: [{ broker: EXAMPLE_USER.broker }],
      }),
      mode: 0o600,
    },
    { path: ".env.example", text: envExample(configDir), mode: 0o600 },
    { path: "README.md", text: readme(configDir), mode: 0o644 },
  ];
}
