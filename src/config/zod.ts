/**
 * The part of zod the schemas use, imported by name: the bundle then leaves out zod's 64 locale
 * files, which `import { z } from "zod"` pulls in (about half of zod's load time).
 */

export type { core, infer, output, ZodError, ZodType } from "zod";
export {
  array,
  bigint,
  boolean,
  enum,
  literal,
  looseObject,
  number,
  object,
  record,
  strictObject,
  string,
  union,
  unknown,
} from "zod";
