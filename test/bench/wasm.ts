/**
 * The WASM path in headless Chromium (launched without WebGPU), on the tiny model: the app's EngineClient
 * and engine worker, q8 files as the app picks them for WASM. Figures: time to first token of a first turn
 * with a 512×512 image (detail "auto", 1 frame), decode tokens/s, and a cached follow-up's time to first token.
 */
import { ensureTinyModel } from '../fixtures/model/ensure';
import { openBenchPage } from './browser';
import { median, round, type GroupOptions, type GroupResult } from './common';

export async function runWasm(opts: GroupOptions): Promise<GroupResult> {
  await ensureTinyModel();
  const b = await openBenchPage('/test/bench/pages/wasm.html', { webgpu: false, log: opts.log });
  try {
    const res = await b.page.evaluate((o) => window.glimpseBench.wasm!(o), { runs: opts.quick ? 2 : 5, tokens: 32 });
    opts.log(`wasm: load ${Math.round(res.loadMs)} ms, crossOriginIsolated ${res.crossOriginIsolated}, ` +
      `ttft ${res.runs.map((r) => Math.round(r.ttftMs)).join('/')} ms`);
    return {
      figures: {
        wasm_ttft_ms: round(median(res.runs.map((r) => r.ttftMs)), 1),
        wasm_tokens_per_s: round(median(res.runs.map((r) => r.tokensPerSecond)), 1),
        wasm_followup_ttft_ms: round(median(res.runs.map((r) => r.followupTtftMs)), 1),
        wasm_load_ms: Math.round(res.loadMs),
      },
      runs: { wasm: res },
    };
  } finally {
    await b.close();
  }
}
