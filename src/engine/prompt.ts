/**
 * Prompt segments and KV-cache reuse planning: pure logic, no model.
 *
 * A prompt is the chat template rendered over the context messages. We cut it into segments at turn
 * boundaries (the end of each message, and the end of each "Assistant:" generation prompt) and tokenize
 * segment by segment, so a prompt that only grew at the end shares its token prefix with the previous one
 * by construction. The engine keeps, for the last generation, the text its KV cache covers and the token
 * count at each boundary ("checkpoints"); `planReuse` finds the longest checkpoint the new prompt still
 * shares, so only what changed is recomputed:
 *   - a follow-up appends text: everything cached is kept, only the new turn is prefilled;
 *   - regenerate/edit/system-prompt change/window slide: the cache is cut back to the last common
 *     checkpoint (or dropped when nothing is shared);
 *   - a different image (or detail) at the same place: the cut goes before the image.
 */

export interface Segment {
  /** Character range [start, end) of the rendered prompt. */
  start: number;
  end: number;
}

/** Renders the chat template; `addGenerationPrompt` appends "Assistant:". */
export type RenderTemplate<M> = (messages: M[], addGenerationPrompt: boolean) => string;

/** The rendered prompt and its turn boundaries (character offsets, increasing, ending at text.length). */
export function renderSegments<M extends { role: string }>(
  messages: M[],
  render: RenderTemplate<M>,
): { text: string; boundaries: number[] } {
  const text = render(messages, true);
  const boundaries = new Set<number>();
  for (let k = 1; k <= messages.length; k++) {
    const upTo = render(messages.slice(0, k), false);
    if (text.startsWith(upTo)) boundaries.add(upTo.length);
    if (k < messages.length && messages[k]!.role === 'assistant') {
      const prompt = render(messages.slice(0, k), true);
      if (text.startsWith(prompt)) boundaries.add(prompt.length);
    }
  }
  boundaries.add(text.length);
  boundaries.delete(0);
  return { text, boundaries: [...boundaries].sort((a, b) => a - b) };
}

export function segmentsOf(boundaries: number[], from = 0): Segment[] {
  const out: Segment[] = [];
  let start = from;
  for (const b of boundaries) {
    if (b <= start) continue;
    out.push({ start, end: b });
    start = b;
  }
  return out;
}

export interface Checkpoint {
  chars: number;
  tokens: number;
}

/** What the KV cache currently holds. */
export interface CacheState {
  /** Model + device + dtypes: a cache is only valid for the exact weights that built it. */
  modelKey: string;
  /** The text the cached token ids spell (the last prompt plus the generated answer). */
  text: string;
  /** Token ids of `text`. */
  ids: number[];
  /** Positions the ids can be cut at, increasing. */
  checkpoints: Checkpoint[];
  /**
   * Tokens the past key/values actually cover: the last sampled token is not yet in them, so this can be
   * one less than ids.length (the next call feeds it along with the new turn).
   */
  pastLength: number;
  /** hash+detail of the image in the cached prefix and where its placeholder starts, or null. */
  image: { key: string; at: number } | null;
}

export interface ReusePlan {
  /** Tokens of the cache to keep (0 = start over). */
  keepTokens: number;
  /** Characters of the new prompt those tokens cover. */
  keepChars: number;
  /** Why the cache was cut, for stats and tests. */
  reason: 'empty' | 'extend' | 'cut' | 'model-changed' | 'image-changed';
}

export function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Plans how much of the cache a new prompt can reuse.
 * @param imageKey hash+detail of the new prompt's image, or null.
 */
export function planReuse(cache: CacheState | null, modelKey: string, text: string, imageKey: string | null): ReusePlan {
  if (!cache) return { keepTokens: 0, keepChars: 0, reason: 'empty' };
  if (cache.modelKey !== modelKey) return { keepTokens: 0, keepChars: 0, reason: 'model-changed' };
  let limit = commonPrefixLength(cache.text, text);
  let reason: ReusePlan['reason'] = limit === cache.text.length ? 'extend' : 'cut';
  // The placeholder text of an image is the same for every picture: compare the pictures themselves.
  if (cache.image && cache.image.at < limit && cache.image.key !== imageKey) {
    limit = cache.image.at;
    reason = 'image-changed';
  }
  // At least one new token must be fed, so the cut must leave some of the new prompt.
  limit = Math.min(limit, text.length - 1);
  let best: Checkpoint = { chars: 0, tokens: 0 };
  for (const cp of cache.checkpoints) if (cp.chars <= limit && cp.tokens <= cache.ids.length) best = cp;
  if (best.tokens === 0) return { keepTokens: 0, keepChars: 0, reason: reason === 'extend' ? 'cut' : reason };
  if (reason === 'extend' && best.chars < cache.text.length) reason = 'cut';
  return { keepTokens: best.tokens, keepChars: best.chars, reason };
}
