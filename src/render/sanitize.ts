// biome-ignore-all lint/suspicious/noControlCharactersInRegex: matching control characters is this module's job
/**
 * Text that came from a config file or an exchange (display names, ids, file names, broker
 * messages), made safe to print on a terminal or show on the dashboard: escape sequences (CSI,
 * OSC, DCS and the other string controls, in their 7-bit and 8-bit forms) are removed whole, the
 * remaining C0 and C1 controls and DEL are dropped, and the BiDi overrides and isolates
 * (U+202A-U+202E, U+2066-U+2069) that can make text read differently from what it is are dropped.
 * A tab or line break becomes a space (one line stays one line) unless `lines` keeps line breaks.
 * JSON output needs none of this: JSON escapes control characters itself.
 *
 * Self-contained (no module-level state), so the dashboard's script embeds it as source.
 */
export function safeText(text: string, lines = false): string {
  const sevenBit =
    /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|[PX^_][^\u001b\u009c]*(?:\u001b\\|\u009c)?|[ -/]*[0-~])?/g;
  const eightBit =
    /\u009b[0-?]*[ -/]*[@-~]?|[\u0090\u0098\u009d-\u009f][^\u0007\u001b\u009c]*(?:\u0007|\u009c)?/g;
  const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
  const clean = String(text)
    .replace(sevenBit, "")
    .replace(eightBit, "")
    .replace(/\r\n?/g, "\n")
    .replace(/[\t\u2028\u2029]/g, " ")
    .replace(controls, "");
  return lines ? clean : clean.replace(/\n/g, " ");
}

/** safeText for diagnostics that span lines on purpose (a problem and its `fix:` line). */
export function safeLines(text: string): string {
  return safeText(text, true);
}
