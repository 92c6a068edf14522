import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { CACHE_NAME, isModelCached, modelFileUrl, requiredFiles } from '../../../src/engine/model-files';
import { EngineClient } from '../../../src/engine/client';
import { ModelHostUnreachableError, type GlimpseError } from '../../../src/errors';
import type { EngineStatus, GenerateInput } from '../../../src/engine/protocol';

/**
 * Settings → Device and Settings → Memory for recent chats, against the real worker in this Chromium, which
 * runs with --enable-unsafe-webgpu: its only WebGPU adapter is SwiftShader, a software one (0.6 tokens/s
 * against 24 on WebAssembly on this machine, ../shared/FACTS.md).
 */
const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const source = { kind: 'local' as const, localModelPath: '/.models/tiny/' };
const settings: GenerationSettings = { ...DEFAULT_GENERATION, model: MODEL, maxNewTokens: 3, repetitionPenalty: 1, imageDetail: 'low' };
const user = (text: string, image = false): ChatMessage => ({ role: 'user', content: makeContent(text, image), timestamp: '' });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: makeContent(text, false), timestamp: '' });
const input = (messages: ChatMessage[], image: { blob: Blob; hash: string } | null = null): GenerateInput => ({ sessionId: 's', messages, image, settings });

async function photo(): Promise<{ blob: Blob; hash: string }> {
  const canvas = new OffscreenCanvas(64, 48);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#3a7';
  ctx.fillRect(0, 0, 64, 48);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { blob, hash: await hashBlob(blob) };
}

function stages(client: EngineClient): string[] {
  const seen: string[] = [];
  client.addEventListener('status', (e) => {
    const s = (e as CustomEvent<EngineStatus>).detail;
    if (s.state === 'generating' && s.stage && seen.at(-1) !== s.stage) seen.push(s.stage);
  });
  return seen;
}

describe('the device the model runs on', () => {
  it('Auto picks WebAssembly over the software adapter; GPU in Settings restarts the worker on WebGPU', async () => {
    const client = new EngineClient({ source, model: MODEL });
    const seen = stages(client);
    try {
      const auto = await client.probe();
      expect(auto).toMatchObject({ device: 'wasm', fallback: true, cause: 'software-adapter', software: true });
      const img = await photo();
      const first = await client.generate(input([user('What is this?', true)], img));
      expect(first.stats.device).toBe('wasm');
      const follow = await client.generate(input([user('What is this?', true), assistant(first.text), user('More?')], img));
      expect(follow.stats.device).toBe('wasm');
      // Reading the picture, then writing; the follow-up only reads the conversation (the picture is known).
      expect(seen).toEqual(['image', 'writing', 'prompt', 'writing']);

      const statuses: string[] = [];
      client.addEventListener('status', (e) => statuses.push((e as CustomEvent<EngineStatus>).detail.state));
      await client.configure({ device: 'webgpu' });
      expect(statuses).toEqual(['idle']); // the worker was restarted; the model reloads on next use
      expect(await client.probe()).toMatchObject({ device: 'webgpu', cause: 'chosen', software: true, shaderF16: false });
      seen.length = 0;
      // The faithful model (logits at every position, as the hub's export) on WebGPU: a short text prompt
      // keeps it affordable on SwiftShader; the longer WebGPU tests load the last-position-logits variant.
      const gpu = await client.generate(input([user('And on the GPU?')]));
      expect(gpu.stats.device).toBe('webgpu');
      // The first answer after a WebGPU load compiles its shaders: said as its own stage.
      expect(seen).toEqual(['warmup', 'writing']);
    } finally {
      client.dispose();
    }
  }, 300_000);

  it('CPU (WebAssembly) in Settings runs on WebAssembly, not as a fallback', async () => {
    const client = new EngineClient({ source, model: MODEL, prefer: 'wasm' });
    try {
      expect(await client.probe()).toMatchObject({ device: 'wasm', fallback: false, cause: 'chosen' });
      expect((await client.generate(input([user('hello')]))).stats.device).toBe('wasm');
    } finally {
      client.dispose();
    }
  });
});

describe('the memory for recent chats reaches the worker', () => {
  const turn = [user('hello')];
  const followUp = (first: string) => [user('hello'), assistant(first), user('and then?')];

  it('at load: with no memory for chats, a follow-up cannot resume from the cache', async () => {
    const client = new EngineClient({ source, model: MODEL, forceDevice: 'wasm', kvBudgetBytes: 0 });
    try {
      const first = await client.generate(input(turn));
      const second = await client.generate(input(followUp(first.text)));
      expect(second.stats.cachedTokens).toBe(0);
    } finally {
      client.dispose();
    }
  });

  it('on change: the worker answers with its usage under the new budget, and keeps the chat within it', async () => {
    const client = new EngineClient({ source, model: MODEL, forceDevice: 'wasm' });
    try {
      const first = await client.generate(input(turn));
      const usage = await client.setKvBudget(64 * 2 ** 20);
      expect(usage).toMatchObject({ chats: 1, budget: 64 * 2 ** 20 });
      expect(usage!.bytes).toBeGreaterThan(0);
      const second = await client.generate(input(followUp(first.text)));
      expect(second.stats.cachedTokens).toBeGreaterThan(0);
      expect(await client.setKvBudget(0)).toEqual({ chats: 0, bytes: 0, budget: 0 });
    } finally {
      client.dispose();
    }
  });
});

describe('the model host and the files already here', () => {
  it('a host that does not answer is named, as offline or blocked (not “files missing”)', async () => {
    const client = new EngineClient({ source: { kind: 'hub', remoteHost: 'http://127.0.0.1:9/' }, model: MODEL, forceDevice: 'wasm' });
    try {
      const err = (await client.load().catch((e: unknown) => e)) as GlimpseError;
      expect(err.name).toBe(ModelHostUnreachableError.errorName);
      expect(err.data).toMatchObject({ host: '127.0.0.1:9' });
      expect(err.message).toMatch(/^127\.0\.0\.1:9 does not answer: this device is offline, or the site is blocked here\./);
      expect(client.status).toMatchObject({ state: 'error', error: { name: 'ModelHostUnreachableError', data: { host: '127.0.0.1:9' } } });
    } finally {
      client.dispose();
    }
  });

  it('a model counts as downloaded when every file this device needs is in the cache', async () => {
    const source = { kind: 'hub' as const, remoteHost: 'http://models.test/' };
    const model = `test/cached-${Date.now()}`;
    const wasmChoice = { device: 'wasm' as const, shaderF16: false };
    const cache = await caches.open(CACHE_NAME);
    try {
      for (const file of requiredFiles(wasmChoice)) await cache.put(modelFileUrl(source, model, file)!, new Response('x'));
      expect(await isModelCached(model, source, wasmChoice)).toBe(true);
      // Another device path needs other files.
      expect(await isModelCached(model, source, { device: 'webgpu', shaderF16: true })).toBe(false);
      await cache.delete(modelFileUrl(source, model, 'onnx/decoder_model_merged_quantized.onnx')!);
      expect(await isModelCached(model, source, wasmChoice)).toBe(false);
    } finally {
      for (const r of await cache.keys()) if (r.url.includes(model)) await cache.delete(r);
    }
  });
});
