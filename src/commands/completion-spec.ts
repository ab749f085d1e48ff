/**
 * What the shell completion scripts complete, read from the commander tree when the script is
 * printed: every visible subcommand, option, option choice and argument. The scripts are built
 * from this, so a flag added to any command is completed without touching them.
 */
import { type Command, Help } from "commander";

/** What an option value or argument completes to. */
export type ValueKind =
  | { kind: "choices"; choices: readonly string[] }
  /** Ids from the configuration, asked of the CLI itself (`completion --list users`). */
  | { kind: "users" }
  | { kind: "brokers" }
  | { kind: "dirs" }
  /** The parent command's subcommand names (the `help [command]` argument). */
  | { kind: "commands" }
  /** Free text (a number, a URL): nothing to offer. */
  | { kind: "none" };

export interface OptionSpec {
  /** `-u`, `--user`: every spelling. */
  names: string[];
  description: string;
  /** null: a flag that takes no value. */
  value: ValueKind | null;
  /** `[when]`: the value may be left out. */
  valueOptional: boolean;
  /** What the value is called in the help: `dir` for `<dir>`. */
  valueName: string;
  /** `<id...>`: the words after it are values until the next option. */
  variadic: boolean;
}

export interface ArgSpec {
  name: string;
  value: ValueKind;
  /** `<file...>`: it repeats (only the last argument can). */
  variadic: boolean;
}

export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  args: ArgSpec[];
  commands: CommandSpec[];
}

/** Options whose values are ids from the configuration rather than anything commander knows. */
const CONFIG_VALUES: Record<string, ValueKind> = {
  "--user": { kind: "users" },
  "--broker": { kind: "brokers" },
};

/** The value an option takes, from its declaration: choices, config ids, a directory or text. */
function optionValue(
  flags: string,
  long: string | undefined,
  choices?: readonly string[],
): ValueKind {
  if (choices && choices.length > 0) return { kind: "choices", choices };
  if (long && CONFIG_VALUES[long]) return CONFIG_VALUES[long];
  if (/<dir>|\[dir\]/.test(flags)) return { kind: "dirs" };
  return { kind: "none" };
}

/** An argument's value: its choices, or by its name (`help [command]`, `init [dir]`). */
function argumentValue(name: string, choices?: readonly string[]): ValueKind {
  if (choices && choices.length > 0) return { kind: "choices", choices };
  if (name === "command") return { kind: "commands" };
  if (name === "dir") return { kind: "dirs" };
  return { kind: "none" };
}

/** A description as one line: menus show one line per entry. */
function shortDescription(text: string): string {
  return (text.split("\n")[0] ?? "").replace(/\s+/g, " ").trim();
}

export function commandSpec(command: Command): CommandSpec {
  const help = new Help();
  const options: OptionSpec[] = help.visibleOptions(command).map((option) => {
    const names = [option.short, option.long].filter((n): n is string => n !== undefined);
    const takesValue = option.required || option.optional;
    return {
      names,
      description: shortDescription(option.description),
      value: takesValue ? optionValue(option.flags, option.long, option.argChoices) : null,
      valueOptional: option.optional,
      valueName: /[<[]([^>\].]+)/.exec(option.flags)?.[1] ?? "value",
      variadic: option.variadic,
    };
  });
  const args: ArgSpec[] = command.registeredArguments.map((argument) => ({
    name: argument.name(),
    value: argumentValue(argument.name(), argument.argChoices),
    variadic: argument.variadic,
  }));
  return {
    name: command.name(),
    description: shortDescription(command.description()),
    options,
    args,
    commands: help.visibleCommands(command).map(commandSpec),
  };
}

/** Every command with the path of names that leads to it from the root ("" for the root). */
export function commandPaths(root: CommandSpec): Array<{ path: string; spec: CommandSpec }> {
  const out: Array<{ path: string; spec: CommandSpec }> = [];
  const walk = (spec: CommandSpec, path: string) => {
    out.push({ path, spec });
    for (const child of spec.commands)
      walk(child, path === "" ? child.name : `${path} ${child.name}`);
  };
  walk(root, "");
  return out;
}
