/**
 * settings.json: parsed field by field, so one bad value costs that setting only (the run still
 * exits 2), not every other default the operator set (a misspelt key must not send the history
 * to another directory or switch the webhook off).
 */

import type { ConfigProblem } from "./errors.js";
import { issueMessages, joinField } from "./issues.js";
import { type Settings, SettingsFileSchema } from "./schemas.js";
import type * as z from "./zod.js";

/** Where every setting is shown with a valid value (the package ships its config/ directory). */
export const SETTINGS_EXAMPLE = "config/settings.example.json";

export { NOTIFY_URL_ENV } from "./bounds.js";

export const SETTING_KEYS = Object.keys(SettingsFileSchema.shape) as (keyof Settings)[];

export function parseSettings(
  value: unknown,
  file: string,
): { settings: Settings; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  let rest = value;
  // Each round drops the keys at fault; a rule across keys (history off with alerts) can only
  // show once the keys' own faults are gone, hence the rounds.
  for (;;) {
    const result = SettingsFileSchema.safeParse(rest, { error: issueMessages });
    if (result.success) return { settings: result.data, problems };
    problems.push(...result.error.issues.flatMap((issue) => problemsOf(issue, file)));
    const bad = new Set(result.error.issues.flatMap(badKeys));
    const entries = typeof rest === "object" && rest !== null ? Object.entries(rest) : [];
    const kept = entries.filter(([key]) => !bad.has(key));
    if (bad.has(null) || kept.length === entries.length) return { settings: {}, problems };
    rest = Object.fromEntries(kept);
  }
}

/** The top-level keys an issue is about; null when it is about the whole file. */
function badKeys(issue: z.core.$ZodIssue): (string | null)[] {
  if (issue.code === "unrecognized_keys") return issue.keys;
  const key = issue.path[0];
  return [typeof key === "string" ? key : null];
}

function problemsOf(issue: z.core.$ZodIssue, file: string): ConfigProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      code: "invalid_field",
      file,
      field: key,
      message: "is not a setting (settings stand in for flags' defaults)",
      hint: `correct its spelling or remove it; the settings are ${SETTING_KEYS.join(", ")} (${SETTINGS_EXAMPLE}, shipped with show-user-balances, shows each)`,
    }));
  }
  const field = joinField("", issue.path);
  if (field === "") {
    return [
      {
        code: "invalid_field",
        file,
        field: null,
        message: issue.message,
        hint: `write one JSON object of settings, such as { "timeoutSeconds": 10 } (${SETTINGS_EXAMPLE}, shipped with show-user-balances, shows every setting)`,
      },
    ];
  }
  return [
    {
      code: "invalid_field",
      file,
      field,
      message: issue.message,
      hint: `correct "${field}" in settings.json, or remove it to use the flag's default (${SETTINGS_EXAMPLE}, shipped with show-user-balances, shows a valid value for every setting)`,
    },
  ];
}
