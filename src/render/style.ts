import { Chalk, type ChalkInstance } from "chalk";

/** Colour only when asked: the CLI decides (TTY, NO_COLOR, --no-color); renderers stay pure. */
export function palette(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}
