/**
 * followup_ttft_ratio: time to first token of a follow-up about a 1024×1024 image (detail "auto", 5 frames)
 * already in context, after 1, 5 and 9 exchanges. Glimpse's cached path (the engine keeps its KV cache) is
 * timed against the naive full re-prefill (`noCache`: vision encoder + the whole prompt again), on the same
 * messages, and both must generate the same tokens.
 *
 * Two engines, so the naive runs never disturb the cached engine's state: A holds the conversation,
 * B answers every measured turn from scratch.
 */
import type { VlmEngine } from '../../src/engine/engine';
import type { GenerateOutput } from '../../src/engine/protocol';
import { Conversation, ensureModel, image, loadEngine, median, question, repeat, round, settings, type GroupOptions, type GroupResult } from './common';

export const EXCHANGES = [1, 5, 9] as const;
/** Answer length of the turns that only build the conversation, and of the measured turns. */
const FILL_TOKENS = 8;
const MEASURED_TOKENS = 16;

interface Measured {
  exchanges: number;
  cachedTtftMs: number;
  naiveTtftMs: number;
  cachedPromptTokens: number;
  cachedTokens: number;
  naivePromptTokens: number;
  cachedVisionRan: boolean;
  identical: boolean;
}

export async function runFollowup(opts: GroupOptions): Promise<GroupResult> {
  const root = await ensureModel(opts.model, opts.log);
  const cached = await loadEngine(root);
  const naive = await loadEngine(root);
  const img = await image(1024, 1024, 7);
  await warmUp(cached, naive, img);

  const repeats = opts.quick ? 1 : 3;
  const all = await repeat(repeats, async (r) => {
    const out = await conversation(cached, naive, img);
    opts.log(`followup run ${r + 1}/${repeats}: ` + out.map((m) => `${m.exchanges}x ${Math.round(m.naiveTtftMs)}/${Math.round(m.cachedTtftMs)} ms`).join(', '));
    return out;
  });
  await cached.unload();
  await naive.unload();

  const flat = all.flat();
  // Each naive run follows its cached run at once: the median of the paired ratios cancels machine drift.
  const ratioAt = (k: number) => median(flat.filter((m) => m.exchanges === k).map((m) => m.naiveTtftMs / m.cachedTtftMs));
  const at5 = flat.filter((m) => m.exchanges === 5);
  return {
    figures: {
      followup_ttft_ratio: round(ratioAt(5), 1),
      followup_ttft_ratio_by_exchanges: Object.fromEntries(EXCHANGES.map((k) => [String(k), round(ratioAt(k), 1)])),
      followup_tokens_identical: flat.every((m) => m.identical),
      followup_ttft_ms_cached: round(median(at5.map((m) => m.cachedTtftMs)), 1),
      followup_ttft_ms_naive: round(median(at5.map((m) => m.naiveTtftMs)), 1),
    },
    runs: { followup: flat, repeats, fillTokens: FILL_TOKENS, measuredTokens: MEASURED_TOKENS, image: '1024x1024 png, detail auto' },
  };
}

/** First calls allocate ONNX Runtime's arenas; keep them out of the figures. */
async function warmUp(a: VlmEngine, b: VlmEngine, img: { blob: Blob; hash: string }): Promise<void> {
  for (const e of [a, b]) {
    const conv = new Conversation(img).user('warm up', true);
    await e.generate(conv.input(settings(2, 'low')), { noCache: true });
  }
}

/** One conversation up to 9 exchanges; the follow-ups after 1, 5 and 9 of them are measured both ways. */
async function conversation(cached: VlmEngine, naive: VlmEngine, img: { blob: Blob; hash: string }): Promise<Measured[]> {
  await cached.resetCache();
  const conv = new Conversation(img).user(question(0), true);
  conv.assistant((await cached.generate(conv.input(settings(FILL_TOKENS)))).text);
  const out: Measured[] = [];
  const last = EXCHANGES[EXCHANGES.length - 1]!;
  for (let k = 1; k <= last; k++) {
    conv.user(question(k));
    if (!(EXCHANGES as readonly number[]).includes(k)) {
      conv.assistant((await cached.generate(conv.input(settings(FILL_TOKENS)))).text);
      continue;
    }
    const input = conv.input(settings(MEASURED_TOKENS));
    const a: GenerateOutput = await cached.generate(input);
    const b: GenerateOutput = await naive.generate(input, { noCache: true });
    out.push({
      exchanges: k,
      cachedTtftMs: a.stats.timeToFirstTokenMs,
      naiveTtftMs: b.stats.timeToFirstTokenMs,
      cachedPromptTokens: a.stats.promptTokens,
      cachedTokens: a.stats.cachedTokens,
      naivePromptTokens: b.stats.promptTokens,
      cachedVisionRan: a.stats.visionRan,
      identical: a.text === b.text && a.stats.tokens === b.stats.tokens,
    });
    conv.assistant(a.text);
  }
  return out;
}
