/**
 * YAML user files (the original's config/users/<user_id>.yaml). The `yaml` package is imported
 * only when such a file exists, so runs without one never load it. Errors give a line and column
 * and a reason of our own words: the parser's messages can quote the source, which may be a key.
 */
import { importModule } from "../import-module.js";
import { MAX_CONFIG_DEPTH } from "./files.js";
import { lineColumn } from "./json.js";

export type YamlParse =
  | { ok: true; value: unknown }
  | { ok: false; tooDeep: boolean; reason: string; line: number; column: number };

const REASONS: Record<string, string> = {
  BAD_INDENT: "bad indentation",
  TAB_AS_INDENT: "a tab used for indentation (YAML indents with spaces)",
  DUPLICATE_KEY: "a key appears twice in one mapping",
  MISSING_CHAR: "a closing quote or bracket is missing",
  MULTILINE_IMPLICIT_KEY: "a key runs over several lines (a missing ':' or quote?)",
  BLOCK_AS_IMPLICIT_KEY: "a mapping inside a one-line value (a value holding ': ' needs quotes)",
  MULTIPLE_DOCS: "holds several YAML documents (---); a user file is one",
  BAD_DQ_ESCAPE: "invalid escape sequence in a double-quoted string",
  BAD_SCALAR_START: "a value starts with a character that needs quotes (such as @, ` or %)",
  TAG_RESOLVE_FAILED: "a value does not fit its YAML tag",
  BAD_ALIAS: "an alias (*name) that refers to no anchor",
  KEY_OVER_1024_CHARS: "a key longer than 1024 characters",
  UNEXPECTED_TOKEN: "unexpected character (a missing ':' or quote, or a stray indicator?)",
  BLOCK_IN_FLOW: "a block value inside [ ] or { }",
  MULTIPLE_ANCHORS: "a value with two anchors",
  MULTIPLE_TAGS: "a value with two tags",
  BAD_DIRECTIVE: "an invalid % directive",
};

/** `[`/`{` nesting found by counting, before the recursive parser sees the text. */
function flowDepthOver(text: string, max: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return -1;
}

export async function parseYaml(text: string): Promise<YamlParse> {
  const tooDeep = (offset: number): YamlParse => ({
    ok: false,
    tooDeep: true,
    reason: `nested more than ${MAX_CONFIG_DEPTH} levels deep`,
    ...lineColumn(text, offset),
  });
  const flow = flowDepthOver(text, MAX_CONFIG_DEPTH);
  if (flow !== -1) return tooDeep(flow);
  const compact = new RegExp(`^[ \\t]*(?:-[ \\t]+){${MAX_CONFIG_DEPTH + 1}}`, "m").exec(text);
  if (compact) return tooDeep(compact.index);

  const { LineCounter, parseDocument } = await importModule<typeof import("yaml")>("yaml");
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    // YAML 1.1, as PyYAML reads the original's files: `enabled: yes` is true there.
    doc = parseDocument(text, { version: "1.1", prettyErrors: false, lineCounter });
  } catch (e) {
    if (e instanceof RangeError) return tooDeep(0);
    return { ok: false, tooDeep: false, reason: "invalid YAML", line: 1, column: 1 };
  }
  const error = doc.errors[0];
  if (error) {
    const pos = lineCounter.linePos(error.pos[0]);
    const deep = /call stack/i.test(error.message);
    return {
      ok: false,
      tooDeep: deep,
      reason: deep
        ? `nested more than ${MAX_CONFIG_DEPTH} levels deep`
        : (REASONS[error.code] ?? "invalid YAML"),
      line: pos.line,
      column: pos.col,
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (e) {
    if (e instanceof RangeError) return tooDeep(0);
    return {
      ok: false,
      tooDeep: false,
      reason: "expands YAML aliases (*name) too many times",
      line: 1,
      column: 1,
    };
  }
}
