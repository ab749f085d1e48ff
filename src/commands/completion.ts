/**
 * `show-user-balances completion <bash|zsh|fish>`: prints a completion script for the shell,
 * built from the command tree at the time it runs. The scripts ask the CLI back for user and
 * broker ids with the hidden `completion --list users|brokers [--config-dir X]`, which reads the
 * config (no ccxt, no request) and prints one id a line, or nothing when the config is unusable.
 */
import { Argument, type Command, Option } from "commander";
import type { CliIo } from "./context.js";
import { EXIT, warn } from "./context.js";

export const COMPLETION_HELP = `
Installs (the script completes subcommands, flags, their choices, and user and broker ids read
from the config directory given with --config-dir, else ./config):
  bash  $ show-user-balances completion bash > ~/.local/share/bash-completion/completions/show-user-balances
        (or add  source <(show-user-balances completion bash)  to ~/.bashrc)
  zsh   $ show-user-balances completion zsh > "\${fpath[1]}/_show-user-balances"   # then: compinit
        (or add  source <(show-user-balances completion zsh)  to ~/.zshrc, after compinit)
  fish  $ show-user-balances completion fish > ~/.config/fish/completions/show-user-balances.fish

Regenerate it after an upgrade: it lists the flags of the version that printed it.`;

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

interface CompletionFlags {
  list?: "users" | "brokers";
  configDir: string;
}

export function registerCompletion(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
): Command {
  return program
    .command("completion")
    .description("print a shell completion script (bash, zsh or fish)")
    .addArgument(new Argument("[shell]", "bash, zsh or fish").choices(SHELLS))
    .addOption(new Option("--list <what>").choices(["users", "brokers"]).hideHelp())
    .addOption(new Option("-c, --config-dir <dir>").default("config").hideHelp())
    .addHelpText("after", COMPLETION_HELP)
    .action(async (shell: Shell | undefined, flags: CompletionFlags) => {
      if (flags.list) {
        const { configIds } = await import("./completion-list.js");
        const ids = await configIds(flags.configDir, flags.list);
        io.stdout.write(ids.map((id) => `${id}\n`).join(""));
        return;
      }
      if (!shell) {
        warn(io, "show-user-balances: completion needs a shell: bash, zsh or fish");
        warn(io, "  fix: show-user-balances completion bash (see completion --help to install it)");
        setExitCode(EXIT.config);
        return;
      }
      const [{ commandSpec }, { completionScript }] = await Promise.all([
        import("./completion-spec.js"),
        import("./completion-scripts.js"),
      ]);
      io.stdout.write(completionScript(shell, commandSpec(program)));
    });
}
