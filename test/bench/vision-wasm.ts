/**
 * Pictures in bounded memory (issue 21) on the WASM path in headless Chromium (no WebGPU): the engine worker's
 * WebAssembly memory after a first turn with a 17-frame picture (512×512, detail high) as a ratio to a
 * one-frame picture's (detail low), each in a fresh worker (WebAssembly memory never shrinks, so what it holds
 * after the turn is the turn's peak). The app's client and worker, q8 files as the app picks them for WASM.
 *
 * The memory is read in the worker itself: as soon as Chromium reports the worker, WebAssembly.Memory and
 * WebAssembly.instantiate(Streaming) are wrapped there to keep every memory ONNX Runtime makes (the worker
 * first imports its modules and loads the model's configs, so this lands long before ONNX Runtime starts; the
 * group fails if it saw none).
 */
import type { Worker } from 'playwright-core';
import { openBenchPage } from './browser';
import { ensureModel, round, type GroupOptions, type GroupResult } from './common';
import { Q8 } from './vision';

const MiB = 2 ** 20;

/**
 * Runs in the worker: keeps the WebAssembly memories made from now on in `self.__glimpseWasmMemories`.
 * Plain JavaScript in a string: tsx's transform adds helpers (`__name`) a function's source would carry along.
 */
const INSTALL_PROBE = `(() => {
  if (self.__glimpseWasmMemories) return;
  const kept = [];
  self.__glimpseWasmMemories = kept;
  const Memory = WebAssembly.Memory;
  const keep = (m) => { if (m instanceof Memory && !kept.includes(m)) kept.push(m); };
  const wrapped = function (d) { const m = new Memory(d); keep(m); return m; };
  wrapped.prototype = Memory.prototype;
  WebAssembly.Memory = wrapped;
  const exportsOf = (r) => { const inst = r.instance ?? r; for (const v of Object.values(inst.exports ?? {})) keep(v); return r; };
  const instantiate = WebAssembly.instantiate.bind(WebAssembly);
  WebAssembly.instantiate = (...a) => instantiate(...a).then(exportsOf);
  const streaming = WebAssembly.instantiateStreaming?.bind(WebAssembly);
  if (streaming) WebAssembly.instantiateStreaming = (...a) => streaming(...a).then(exportsOf);
})()`;

/** Bytes of each memory kept (WebAssembly memory only grows: the current size is the peak). */
const READ_PROBE = `(self.__glimpseWasmMemories ?? []).map((m) => m.buffer.byteLength)`;

export async function runVisionWasm(opts: GroupOptions): Promise<GroupResult> {
  await ensureModel(opts.model, opts.log, [Q8]);
  const b = await openBenchPage('/test/bench/pages/vision.html', { webgpu: false, log: opts.log });
  const engineWorkers: Worker[] = [];
  const probes: Promise<unknown>[] = [];
  b.page.on('worker', (w) => {
    if (!w.url().includes('engine/worker')) return; // ONNX Runtime's own thread workers share its memory
    engineWorkers.push(w);
    probes.push(w.evaluate(INSTALL_PROBE).catch((err: unknown) => opts.log(`vision-wasm: probe not installed: ${String(err)}`)));
  });
  const turn = async (detail: 'low' | 'high') => {
    const before = engineWorkers.length;
    const { loadMs } = await b.page.evaluate((o) => window.glimpseBench.visionOpen!(o), { size: opts.model });
    const worker = engineWorkers[before];
    if (!worker) throw new Error('vision-wasm: the engine worker was not seen');
    await Promise.all(probes);
    const loaded = (await worker.evaluate(READ_PROBE)) as number[];
    if (loaded.length === 0) throw new Error('vision-wasm: no WebAssembly memory seen in the engine worker (probe too late?)');
    const t = await b.page.evaluate((o) => window.glimpseBench.visionTurn!(o), { detail, tokens: 4 });
    const after = (await worker.evaluate(READ_PROBE)) as number[];
    await b.page.evaluate(() => window.glimpseBench.visionClose!());
    const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / MiB;
    const r = { detail, loadMs, loadedMb: sum(loaded), afterMb: sum(after), ...t };
    opts.log(`vision-wasm: detail ${detail}: ${t.imageTokens / 64} frames, WebAssembly memory ${Math.round(r.loadedMb)} → ` +
      `${Math.round(r.afterMb)} MiB, vision ${Math.round(t.visionMs)} ms, frames heard ${t.frames.length}`);
    return r;
  };
  try {
    const oneFrame = await turn('low');
    const frames17 = await turn('high');
    return {
      figures: {
        vision_peak_ratio_wasm: round(frames17.afterMb / oneFrame.afterMb, 2),
        vision_wasm_memory_mib: { loaded: Math.round(oneFrame.loadedMb), one_frame: Math.round(oneFrame.afterMb), frames_17: Math.round(frames17.afterMb) },
        vision_wasm_17_frames_ms: Math.round(frames17.visionMs),
      },
      runs: { visionWasm: { oneFrame, frames17, dtypes: Q8 } },
    };
  } finally {
    await b.close();
  }
}
