/**
 * KV-cache reuse planning: pure logic on token ids, no model.
 *
 * The engine keeps, for the last generation, the token ids its KV cache holds. A new prompt is tokenized
 * canonically (tokens.ts) and the cache is kept for the longest common prefix of the two id sequences:
 *   - a follow-up appends: everything cached is kept (the previous answer too, when its sampled tokens are
 *     the ones the stored text encodes to), only the new turn is prefilled;
 *   - regenerate / edit / another system prompt / the window sliding: the cache is cut at the first
 *     differing token (or dropped when nothing is shared);
 *   - a different picture (or detail) behind the same placeholder tokens: the cut goes before the image.
 * Because the kept prefix is compared with the canonical ids, a cached answer equals a fresh one: the
 * cache never holds a token a fresh start would not feed (a sampled split the tokenizer would not make,
 * bytes cut mid-character by Stop or the token limit).
 */

/** What the KV cache currently holds. */
export interface CacheState {
  /** Model + device + dtypes: a cache is only valid for the exact weights that built it. */
  modelKey: string;
  /** Token ids of the last prompt plus the sampled answer. */
  ids: number[];
  /**
   * Tokens the past key/values actually cover: the last sampled token is not yet in them, so this is
   * usually ids.length - 1 (the next call feeds it along with the new turn).
   */
  pastLength: number;
  /** The picture in the cached prefix (hash + detail) and the token index where its expansion starts. */
  image: { key: string; at: number; expansion: string } | null;
}

export interface ReusePlan {
  /** Tokens of the cache to keep (0 = start over). */
  keepTokens: number;
  /** Why, for stats and tests. */
  reason: 'empty' | 'extend' | 'cut' | 'model-changed' | 'image-changed';
}

export function commonPrefixLength<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Plans how much of the cache a new prompt can reuse.
 * @param image the new prompt's picture (hash + detail) and where its expansion starts, or null.
 */
export function planReuse(
  cache: CacheState | null,
  modelKey: string,
  ids: readonly number[],
  image: { key: string; at: number } | null,
): ReusePlan {
  if (!cache) return { keepTokens: 0, reason: 'empty' };
  if (cache.modelKey !== modelKey) return { keepTokens: 0, reason: 'model-changed' };
  // At least one new token must be fed, so the cut leaves some of the new prompt.
  let keep = Math.min(commonPrefixLength(cache.ids, ids), cache.pastLength, ids.length - 1);
  let reason: ReusePlan['reason'] = keep === cache.pastLength ? 'extend' : 'cut';
  // The placeholder tokens of an image are the same for every picture: compare the pictures themselves.
  const samePicture = image !== null && image.key === cache.image?.key && image.at === cache.image.at;
  if (cache.image && cache.image.at < keep && !samePicture) {
    keep = cache.image.at;
    reason = 'image-changed';
  }
  return { keepTokens: Math.max(0, keep), reason };
}
