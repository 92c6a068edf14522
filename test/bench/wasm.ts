/**
 * The WASM path in headless Chromium (launched without WebGPU): the app's EngineClient and engine worker, q8
 * files as the app picks them for WASM, on a page served cross-origin isolated (the COOP/COEP headers the
 * built app's service worker adds). Two engine workers in the same page, one on a single ONNX Runtime
 * thread (what a page without isolation gets) and one on the threads the app picks when isolated
 * (src/engine/threads.ts; at least 2), their runs alternating. Figures for each: time to first token of a first turn
 * with a 512×512 image (detail "auto", 1 frame), decode tokens/s, and a cached follow-up's time to first
 * token; and multi/single ratios of adjacent runs. `--model real` (the default) uses the real-size model.
 */
import { cpus } from 'node:os';
import { wasmThreads } from '../../src/engine/threads';
import type { WasmRun, WasmSeries } from './pages/api';
import { openBenchPage } from './browser';
import { ensureModel, median, round, type GroupOptions, type GroupResult } from './common';

const WASM_DTYPES = { vision_encoder: 'q8', embed_tokens: 'q8', decoder_model_merged: 'q8' } as const;

function figuresOf(prefix: string, s: WasmSeries): Record<string, number> {
  return {
    [`${prefix}_ttft_ms`]: round(median(s.runs.map((r) => r.ttftMs)), 1),
    [`${prefix}_tokens_per_s`]: round(median(s.runs.map((r) => r.tokensPerSecond)), 1),
    [`${prefix}_followup_ttft_ms`]: round(median(s.runs.map((r) => r.followupTtftMs)), 1),
  };
}

/** Median over runs of multi / single for one field (run r of each series ran next to each other). */
function ratio(multi: WasmSeries, single: WasmSeries, field: (r: WasmRun) => number): number {
  return round(median(multi.runs.map((r, i) => field(r) / field(single.runs[i]!))), 3);
}

export async function runWasm(opts: GroupOptions): Promise<GroupResult> {
  const root = await ensureModel(opts.model, opts.log, [WASM_DTYPES]);
  const modelPath = `/.models/${root.split('/').at(-1)}/`;
  const b = await openBenchPage('/test/bench/pages/wasm.html', { webgpu: false, isolated: true, log: opts.log });
  try {
    const runs = opts.quick ? 2 : opts.model === 'real' ? 5 : 7;
    // The app's own choice, but at least 2: on 2 cores the app keeps 1 thread (src/engine/threads.ts), and this
    // group is where that choice is checked.
    const multiThreads = Math.max(2, wasmThreads({ isolated: true, cores: cpus().length }));
    const res = await b.page.evaluate((o) => window.glimpseBench.wasm!(o), { runs, tokens: 32, modelPath, threads: [1, multiThreads] });
    const [single, multi] = res.series as [WasmSeries, WasmSeries];
    if (!res.crossOriginIsolated) throw new Error('bench wasm: the page is not cross-origin isolated, so both series would run on one thread');
    opts.log(`wasm: ${res.hardwareConcurrency} cores, threads ${single.threads} vs ${multi.threads}; ` +
      `ttft ${single.runs.map((r) => Math.round(r.ttftMs)).join('/')} vs ${multi.runs.map((r) => Math.round(r.ttftMs)).join('/')} ms; ` +
      `tokens/s ${single.runs.map((r) => Math.round(r.tokensPerSecond)).join('/')} vs ${multi.runs.map((r) => Math.round(r.tokensPerSecond)).join('/')}`);
    return {
      figures: {
        wasm_threads: multi.threads,
        ...figuresOf('wasm', multi),
        ...figuresOf('wasm_1t', single),
        // > 1: the threads make tokens faster; < 1: the threads make the first token sooner.
        wasm_mt_tokens_per_s_ratio: ratio(multi, single, (r) => r.tokensPerSecond),
        wasm_mt_ttft_ratio: ratio(multi, single, (r) => r.ttftMs),
        wasm_mt_followup_ttft_ratio: ratio(multi, single, (r) => r.followupTtftMs),
        wasm_load_ms: Math.round(multi.loadMs),
      },
      runs: { wasm: res },
    };
  } finally {
    await b.close();
  }
}
