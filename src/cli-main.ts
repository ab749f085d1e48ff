/**
 * The command line: declares commands, runs one, maps the outcome to an exit code. Everything
 * else lives in the library (see index.ts); each command is a file under commands/. Bundled into
 * dist/cli-main.cjs, which cli.ts runs.
 */
import { Command, CommanderError } from "commander";
import { registerCompletion } from "./commands/completion.js";
import { type CliIo, EXIT } from "./commands/context.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerHistory } from "./commands/history.js";
import { inheritRootFlagsInSubcommands } from "./commands/inherit.js";
import { registerInit } from "./commands/init.js";
import { registerPortfolio } from "./commands/portfolio.js";
import { addReportFlags, REPORT_HELP, reportAction } from "./commands/report.js";
import { registerServe } from "./commands/serve.js";
import { safeLines } from "./render/sanitize.js";

let reportRan = false;

/** Whether this process ran the report (the root command): cli.ts keeps the code cache it used. */
export function ranReport(): boolean {
  return reportRan;
}

async function main(argv: readonly string[], io: CliIo, version: string): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = addReportFlags(
    new Command()
      .name("show-user-balances")
      .description(
        "Show every platform and user broker balance, live through ccxt, as a table or JSON.",
      )
      .version(version),
  )
    .addHelpText("after", REPORT_HELP)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Commander quotes what was typed (an unknown option, a bad value): no escape sequences.
      writeErr: (text) => io.stderr.write(safeLines(text)),
    })
    // Root flags go before the subcommand name, each subcommand's after it (see inherit.ts).
    .enablePositionalOptions()
    .helpCommand(true)
    .action(async (_options, command: Command) => {
      rejectStrayWords(command);
      reportRan = true;
      exitCode = await reportAction(command, io);
    });
  registerServe(program, io, (code) => {
    exitCode = code;
  });
  registerHistory(program, io, (code) => {
    exitCode = code;
  });
  registerPortfolio(program, io, (code) => {
    exitCode = code;
  });
  registerInit(program, io, (code) => {
    exitCode = code;
  });
  registerDoctor(program, io, (code) => {
    exitCode = code;
  });
  registerCompletion(program, io, (code) => {
    exitCode = code;
  });
  program
    .command("version")
    .description("print the version")
    .action(() => {
      io.stdout.write(`${version}\n`);
    });
  inheritRootFlagsInSubcommands(program);
  // The root's action sees stray words itself (rejectStrayWords). Set last: subcommands copy
  // these settings when they are declared, and must keep rejecting theirs.
  program.allowExcessArguments().allowUnknownOption();
  try {
    await program.parseAsync(argv as string[], { from: "node" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.config;
    throw error;
  }
  return exitCode;
}

/** commander's own errors, with their "Did you mean": in its source, not in its typings. */
interface CommanderErrors {
  unknownCommand(): never;
  unknownOption(flag: string): never;
}

/**
 * The report is the root's action, so a mistyped subcommand (`histroy`, `serv --port 0`) reaches
 * it as a stray word: commander's unknown-command error, with its suggestion, instead of the
 * report or "too many arguments". An unknown option gets commander's own error as before.
 */
function rejectStrayWords(command: Command): void {
  const [first] = command.args;
  if (first === undefined) return;
  const errors = command.allowUnknownOption(false) as unknown as CommanderErrors;
  if (first.startsWith("-")) errors.unknownOption(first);
  errors.unknownCommand();
}

/**
 * Done means done: once what was written has left the process, exit, rather than wait for what
 * the run left behind (V8 compiling the HTTP parser for another 0.1-0.25 s, a request to a hung
 * broker that `serve` abandoned at shutdown). Output to files, terminals and Linux pipes is
 * written synchronously; elsewhere (macOS pipes) it is given up to a second to drain.
 */
function exitOnceWritten(): void {
  const written = () => process.stdout.writableLength === 0 && process.stderr.writableLength === 0;
  if (written()) process.exit();
  setInterval(() => {
    if (written()) process.exit();
  }, 10).unref();
  setTimeout(() => process.exit(), 1000).unref();
}

/** Runs the command line on process.argv and ends the process with its exit code. */
export function runCli(version: string): void {
  // A reader that goes away (`| head`) is not an error: stop quietly, as other CLIs do.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(EXIT.ok);
  });
  // The same for diagnostics (`2>&1 | head`): nobody reads them any more, so the command goes on
  // and its exit code stands. Unhandled, the error ended the process with exit 1.
  process.stderr.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
  main(process.argv, { stdout: process.stdout, stderr: process.stderr }, version).then(
    (code) => {
      process.exitCode = code;
      exitOnceWritten();
    },
    (error: unknown) => {
      const message = safeLines(error instanceof Error ? error.message : String(error));
      process.stderr.write(`show-user-balances: internal error: ${message}\n`);
      if (process.env.DEBUG && error instanceof Error && error.stack) {
        process.stderr.write(`${error.stack}\n`);
      }
      process.exitCode = EXIT.internal;
    },
  );
}
