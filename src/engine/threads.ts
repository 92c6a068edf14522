/**
 * How many threads ONNX Runtime's WebAssembly runs on. Threads need SharedArrayBuffer, so a page that is not
 * cross-origin isolated gets one. Isolated: half the logical cores as ONNX Runtime itself picks (a
 * hyperthread adds little to matrix work), at most 4 as it does, but at least 2 where there are 2 cores: on a
 * 2-core device the page's own thread is idle while the model runs, and one thread would waste half the
 * machine (measured in `npm run bench -- --group wasm`). `asked` (the worker's name `threads=N`, for the
 * bench's single- against multi-threaded runs) wins when the page is isolated.
 */
export function wasmThreads(opts: { isolated: boolean; cores: number; asked?: number | undefined }): number {
  if (!opts.isolated) return 1;
  if (opts.asked !== undefined && Number.isInteger(opts.asked) && opts.asked >= 1) return opts.asked;
  const cores = Number.isFinite(opts.cores) && opts.cores >= 1 ? Math.floor(opts.cores) : 1;
  if (cores < 2) return 1;
  return Math.min(4, Math.max(2, Math.ceil(cores / 2)));
}

/** The `threads=N` a worker was named with (see wasmThreads), or undefined. */
export function threadsAsked(workerName: string): number | undefined {
  const m = /(?:^|\s)threads=(\d+)(?:\s|$)/.exec(workerName);
  return m ? Number(m[1]) : undefined;
}
