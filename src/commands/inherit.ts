/**
 * Root flags given before a subcommand (`--config-dir x serve`, `--json history`). With
 * positional options, commander gives them to the root command, whose action does not run; here
 * they reach the subcommand, so a global option works on either side of the command name.
 */
import type { Command, Option } from "commander";
import { EXIT } from "./context.js";

/**
 * A root flag given on the command line (or by its environment variable) fills the subcommand's
 * flag of the same declaration, unless the subcommand got its own value. A root flag the
 * subcommand does not take (`--status serve`, or the report's `--refresh` before `serve`, whose
 * `--refresh <seconds>` is another flag) is a usage error naming it: exit 2, never dropped.
 */
export function inheritRootFlags(root: Command, subcommand: Command): void {
  const byKey = new Map<string, Option[]>();
  for (const option of root.options) {
    const key = option.attributeName();
    byKey.set(key, [...(byKey.get(key) ?? []), option]);
  }
  for (const [key, options] of byKey) {
    const source = root.getOptionValueSource(key);
    if (source !== "cli" && source !== "env") continue;
    const value: unknown = root.getOptionValue(key);
    // --color [when] and --no-color share a key: the subcommand must take both spellings.
    const takes = options.every((o) => subcommand.options.some((own) => own.flags === o.flags));
    if (!takes) {
      // A variable set for every command is not a flag given to this one.
      if (source === "env") continue;
      const given = options.find((o) => o.negate === (value === false)) ?? (options[0] as Option);
      subcommand.error(
        `error: option '${given.long ?? given.flags}' (given before '${subcommand.name()}') is not an option of '${subcommand.name()}'`,
        { exitCode: EXIT.config, code: "commander.rootOptionNotInherited" },
      );
    }
    const own = subcommand.getOptionValueSource(key);
    if (own === "cli" || own === "env") continue;
    subcommand.setOptionValueWithSource(key, value, source);
  }
}

/** Every subcommand's action starts with its root flags, whoever declared the subcommand. */
export function inheritRootFlagsInSubcommands(root: Command): Command {
  return root.hook("preAction", (_root, action) => {
    if (action !== root) inheritRootFlags(root, action);
  });
}
