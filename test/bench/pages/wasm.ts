/**
 * WASM engine bench page: the app's page client and engine worker on WebAssembly (no WebGPU), on a generated
 * model served by the dev server. Times the load, a first turn with an image and a follow-up, for one engine
 * worker per thread count (single- against multi-threaded in the same page, runs alternating).
 */
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { EngineClient } from '../../../src/engine/client';
import type { GenerateInput } from '../../../src/engine/protocol';
import { wasmThreads } from '../../../src/engine/threads';
import type { WasmOptions, WasmResult, WasmRun, WasmSeries } from './api';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const user = (text: string, image = false): ChatMessage => ({ role: 'user', content: makeContent(text, image), timestamp: '' });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: makeContent(text, false), timestamp: '' });

async function photo(): Promise<{ blob: Blob; hash: string }> {
  const canvas = new OffscreenCanvas(512, 512);
  const ctx = canvas.getContext('2d')!;
  for (let i = 0; i < 24; i++) {
    ctx.fillStyle = `hsl(${(i * 37) % 360} 80% 50%)`;
    ctx.fillRect((i * 53) % 512, (i * 31) % 512, 120, 90);
  }
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { blob, hash: await hashBlob(blob) };
}

/** An engine client whose worker runs ONNX Runtime on `threads` threads (undefined: the app's choice). */
function client(modelPath: string, threads: number | undefined): EngineClient {
  return new EngineClient({
    source: { kind: 'local', localModelPath: modelPath },
    model: MODEL,
    forceDevice: 'wasm',
    ...(threads !== undefined ? { wasmThreads: threads } : {}),
  });
}

async function oneRun(c: EngineClient, input: (m: ChatMessage[]) => GenerateInput): Promise<WasmRun> {
  await c.reset();
  const first = [user('What is in this picture?', true)];
  const a = await c.generate(input(first));
  const b = await c.generate(input([...first, assistant(a.text), user('And the colours?')]));
  return {
    ttftMs: a.stats.timeToFirstTokenMs,
    tokensPerSecond: a.stats.tokensPerSecond,
    tokens: a.stats.tokens,
    imageTokens: a.stats.imageTokens,
    followupTtftMs: b.stats.timeToFirstTokenMs,
    followupVisionRan: b.stats.visionRan,
  };
}

async function wasm({ runs, tokens, modelPath, threads }: WasmOptions): Promise<WasmResult> {
  const settings: GenerationSettings = { ...DEFAULT_GENERATION, model: MODEL, maxNewTokens: tokens, imageDetail: 'auto' };
  const img = await photo();
  const input = (messages: ChatMessage[]): GenerateInput => ({ sessionId: 'bench', messages, image: img, settings });
  // One worker per thread count, all loaded before the first timed run; the runs then alternate between
  // them so that the machine's load falls on every series alike.
  const series: (WasmSeries & { client: EngineClient })[] = [];
  for (const t of threads) {
    const c = client(modelPath, t);
    const t0 = performance.now();
    await c.load();
    const loadMs = performance.now() - t0;
    await c.generate(input([user('warm up', true)])); // first-run allocations
    const effective = wasmThreads({ isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency, asked: t });
    series.push({ threads: effective, loadMs, runs: [], client: c });
  }
  for (let r = 0; r < runs; r++) {
    for (const s of r % 2 ? [...series].reverse() : series) s.runs.push(await oneRun(s.client, input));
  }
  for (const s of series) s.client.dispose();
  return {
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    series: series.map(({ threads: th, loadMs, runs: rs }) => ({ threads: th, loadMs, runs: rs })),
  };
}

window.glimpseBench = { wasm };
