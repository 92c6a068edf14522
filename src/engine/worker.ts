/// <reference lib="webworker" />
// The engine worker's entry: point ONNX Runtime at the .wasm/.mjs this app serves (never a CDN), give it its
// threads (several when the page is cross-origin isolated, see threads.ts), then hand every message to the handler.
import { env } from '@huggingface/transformers';
import ortMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { createHandler } from './handler';
import { trackWasmMemory } from './memory';
import type { EngineRequest, EngineResponse } from './protocol';
import { wasmThreads } from './threads';

// Before ONNX Runtime makes its heap (on the first load), so the page can be told how big it grew.
trackWasmMemory();
const onnx = env.backends.onnx as { wasm?: { wasmPaths?: unknown; proxy?: boolean; numThreads?: number } };
if (onnx.wasm) {
  onnx.wasm.wasmPaths = { mjs: new URL(ortMjs, self.location.href).href, wasm: new URL(ortWasm, self.location.href).href };
}
const setThreads = (asked?: number) => {
  if (onnx.wasm) onnx.wasm.numThreads = wasmThreads({ isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency, asked });
};
setThreads();

// The worker's global, typed by the protocol: it posts EngineResponses and hears EngineRequests.
const scope: { postMessage(m: EngineResponse): void; onmessage: ((e: MessageEvent<EngineRequest>) => void) | null } = self;
const handle = createHandler((m) => scope.postMessage(m));
scope.onmessage = (e) => {
  if (e.data.type === 'load' && e.data.threads !== undefined) setThreads(e.data.threads);
  void handle(e.data);
};
