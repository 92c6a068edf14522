/**
 * first_turn_ttft_ratio: time to first token of a first turn about a 512×512 image with detail "high" (the
 * processor's default: upscaled to 2048, 4×4 tiles + 1 = 17 frames) divided by "auto" (1 frame, never
 * upscaled). Also the peak RSS of the "high" turn (VmHWM, see common.ts).
 */
import { Conversation, ensureModel, image, loadEngine, median, PeakRss, repeat, round, settings, type GroupOptions, type GroupResult } from './common';

export async function runFirstTurn(opts: GroupOptions): Promise<GroupResult> {
  const root = await ensureModel(opts.model, opts.log);
  const engine = await loadEngine(root);
  const img = await image(512, 512, 3);
  const peak = new PeakRss();
  const turn = (detail: 'high' | 'auto') => new Conversation(img).user('What is in this picture?', true).input(settings(2, detail));
  await engine.generate(turn('auto'), { noCache: true }); // warm-up

  const repeats = opts.quick ? 1 : 3;
  const runs = await repeat(repeats, async (r) => {
    const row: Record<string, number> = {};
    for (const detail of ['high', 'auto'] as const) {
      await engine.resetCache();
      peak.reset();
      const out = await engine.generate(turn(detail), { noCache: true });
      row[`${detail}TtftMs`] = out.stats.timeToFirstTokenMs;
      row[`${detail}ImageTokens`] = out.stats.imageTokens;
      row[`${detail}PeakRssMb`] = peak.peakMb();
    }
    opts.log(`first-turn run ${r + 1}/${repeats}: high ${Math.round(row.highTtftMs!)} ms (${row.highImageTokens} image tokens), auto ${Math.round(row.autoTtftMs!)} ms (${row.autoImageTokens})`);
    return row;
  });
  peak.stop();
  await engine.unload();

  const med = (k: string) => median(runs.map((r) => r[k]!));
  return {
    figures: {
      first_turn_ttft_ratio: round(median(runs.map((r) => r.highTtftMs! / r.autoTtftMs!)), 1), // paired runs
      first_turn_ttft_ms_high: round(med('highTtftMs'), 1),
      first_turn_ttft_ms_auto: round(med('autoTtftMs'), 1),
      // Only "high": after it, the allocator keeps its pages, so a later "auto" peak would mostly be that.
      first_turn_peak_rss_mb_high: Math.round(med('highPeakRssMb')),
    },
    runs: { firstTurn: runs, repeats, image: '512x512 png', peakRss: peak.method },
  };
}
