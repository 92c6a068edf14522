/**
 * How many threads ONNX Runtime's WebAssembly runs on. Threads need SharedArrayBuffer, so a page that is not
 * cross-origin isolated gets one. Isolated: half the logical cores, at most 4 (ONNX Runtime's own rule: a
 * hyperthread adds little to matrix work, and the page, the GPU process and other tabs need the rest), so
 * 1 on a 2-core machine. On this project's 2-core machine under load, 2 threads were slower than 1
 * (`npm run bench -- --group wasm`, README), which is why 2 cores are not rounded up. `asked`
 * (EngineClient's `wasmThreads`, `?wasm-threads=N`) wins when the page is isolated.
 */
export function wasmThreads(opts: { isolated: boolean; cores: number; asked?: number | undefined }): number {
  if (!opts.isolated) return 1;
  if (opts.asked !== undefined && Number.isInteger(opts.asked) && opts.asked >= 1) return Math.min(opts.asked, 16);
  const cores = Number.isFinite(opts.cores) && opts.cores >= 1 ? Math.floor(opts.cores) : 1;
  return Math.min(4, Math.ceil(cores / 2));
}
