/**
 * Decode ms/token, prefill tokens/s and peak RSS for a first turn (1024×1024 image, detail "auto", 5 frames)
 * and a follow-up about it, through the engine. This group runs in its own process (run.ts), so the peaks
 * are this conversation's and nothing else's.
 *
 *   prefill tokens/s = prompt tokens computed (not served from the cache) / time to first token; the first
 *                      turn's time includes the vision encoder.
 *   decode ms/token  = 1000 / the engine's tokens/s (first token to last).
 *   peak RSS         = VmHWM over the phase (reset with clear_refs, see common.ts); "load" is the model load.
 */
import type { GenerateOutput } from '../../src/engine/protocol';
import { Conversation, ensureModel, image, loadEngine, median, PeakRss, question, repeat, round, settings, type GroupOptions, type GroupResult } from './common';

const TOKENS = 32;

export async function runMemory(opts: GroupOptions): Promise<GroupResult> {
  const root = await ensureModel(opts.model, opts.log);
  const peak = new PeakRss();
  peak.reset();
  const engine = await loadEngine(root);
  const loadPeak = peak.peakMb();
  const img = await image(1024, 1024, 11);
  await engine.generate(new Conversation(img).user('warm up', true).input(settings(2, 'low')), { noCache: true });

  const phase = async (fn: () => Promise<GenerateOutput>) => {
    peak.reset();
    const out = await fn();
    const s = out.stats;
    return {
      decodeMsPerToken: s.tokensPerSecond > 0 ? 1000 / s.tokensPerSecond : NaN,
      prefillTokensPerS: (s.promptTokens - s.cachedTokens) / (s.timeToFirstTokenMs / 1000),
      peakRssMb: peak.peakMb(),
      ttftMs: s.timeToFirstTokenMs,
      promptTokens: s.promptTokens,
      cachedTokens: s.cachedTokens,
      tokens: s.tokens,
    };
  };

  const repeats = opts.quick ? 1 : 3;
  const runs = await repeat(repeats, async (r) => {
    await engine.resetCache();
    const conv = new Conversation(img).user(question(0), true);
    let answer = '';
    const first = await phase(async () => {
      const out = await engine.generate(conv.input(settings(TOKENS)));
      answer = out.text;
      return out;
    });
    conv.assistant(answer).user(question(1));
    const followup = await phase(() => engine.generate(conv.input(settings(TOKENS))));
    opts.log(`memory run ${r + 1}/${repeats}: first turn ${Math.round(first.peakRssMb)} MB, follow-up ${Math.round(followup.peakRssMb)} MB`);
    return { first, followup };
  });
  peak.stop();
  await engine.unload();

  const med = (pick: (r: (typeof runs)[number]) => number) => median(runs.map(pick));
  return {
    figures: {
      first_turn_decode_ms_per_token: round(med((r) => r.first.decodeMsPerToken), 2),
      first_turn_prefill_tokens_per_s: round(med((r) => r.first.prefillTokensPerS), 1),
      first_turn_peak_rss_mb: Math.round(med((r) => r.first.peakRssMb)),
      followup_decode_ms_per_token: round(med((r) => r.followup.decodeMsPerToken), 2),
      followup_prefill_tokens_per_s: round(med((r) => r.followup.prefillTokensPerS), 1),
      followup_peak_rss_mb: Math.round(med((r) => r.followup.peakRssMb)),
      load_peak_rss_mb: Math.round(loadPeak),
    },
    runs: { memory: runs, repeats, newTokens: TOKENS, peakRss: peak.method, image: '1024x1024 png, detail auto' },
  };
}
