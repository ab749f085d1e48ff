/**
 * A stored cache entry's shape, as a zod schema: the type comes from it, and the tests hold the
 * zod-free reader (cache-entry.ts) to it. Nothing at run time loads this file.
 */
import { AccountBalanceSchema } from "../brokers/schemas.js";
import * as z from "../config/zod.js";
import { CACHE_FORMAT } from "./balance-cache.js";

export const CacheEntrySchema = z.object({
  format: z.literal(CACHE_FORMAT),
  storedAt: z.number(),
  balance: AccountBalanceSchema,
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;
