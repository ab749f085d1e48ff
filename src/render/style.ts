/** The few styles the renderers use; plain text when colour is off. */
export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
}

const same = (text: string) => text;

export const PLAIN: Palette = { bold: same, dim: same, red: same, yellow: same, green: same };

/**
 * Colour only when asked: the CLI decides (TTY, NO_COLOR, --no-color) and renderers stay pure.
 * chalk is loaded only then, so a run printing plain text or JSON never pays for it.
 */
export async function loadPalette(color: boolean): Promise<Palette> {
  if (!color) return PLAIN;
  const { Chalk } = await import("chalk");
  return new Chalk({ level: 1 });
}
