#!/usr/bin/env node
/**
 * The command line: declares commands, runs one, maps the outcome to an exit code. Everything
 * else lives in the library (see index.ts); each command is a file under commands/.
 */
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { type CliIo, EXIT } from "./commands/context.js";
import { registerHistory } from "./commands/history.js";
import { registerPortfolio } from "./commands/portfolio.js";
import { addReportFlags, REPORT_HELP, reportAction } from "./commands/report.js";
import { registerServe } from "./commands/serve.js";
import { safeLines } from "./render/sanitize.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

async function main(argv: readonly string[], io: CliIo): Promise<number> {
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
    .action(async (_options, command: Command) => {
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
  try {
    await program.parseAsync(argv as string[], { from: "node" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.config;
    throw error;
  }
  return exitCode;
}

// A reader that goes away (`| head`) is not an error: stop quietly, as other CLIs do.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(EXIT.ok);
});

/**
 * Once the command has returned, nothing it left behind (a request to a hung broker that `serve`
 * abandoned at shutdown) may keep the process alive: it ends within a second.
 */
const LINGER_MS = 1000;

main(process.argv, { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(), LINGER_MS).unref();
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
