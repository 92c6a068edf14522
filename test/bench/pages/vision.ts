/**
 * Pictures in bounded memory, WASM path: the app's page client and engine worker on WebAssembly, a first turn
 * with a 512×512 picture at a detail level (low: 1 frame, high: 17). One client (one worker) per turn, so
 * the worker's WebAssembly memory, which never shrinks, is that turn's peak; the Node side reads it.
 */
import { DEFAULT_GENERATION, type GenerationSettings, type ImageDetail } from '../../../src/chat/backend';
import { hashBlob } from '../../../src/chat/images';
import { makeContent } from '../../../src/chat/messages';
import { EngineClient } from '../../../src/engine/client';
import type { EngineStatus } from '../../../src/engine/protocol';
import type { VisionTurn } from './api';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
let client: EngineClient | null = null;

async function photo(): Promise<{ blob: Blob; hash: string }> {
  const canvas = new OffscreenCanvas(512, 512);
  const ctx = canvas.getContext('2d')!;
  for (let i = 0; i < 24; i++) {
    ctx.fillStyle = `hsl(${(i * 41) % 360} 75% 50%)`;
    ctx.fillRect((i * 59) % 512, (i * 37) % 512, 110, 80);
  }
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { blob, hash: await hashBlob(blob) };
}

/** A fresh client (its worker starts with the load); resolves when the model is loaded. */
async function visionOpen({ size }: { size: 'tiny' | 'real' }): Promise<{ loadMs: number }> {
  client?.dispose();
  client = new EngineClient({ source: { kind: 'local', localModelPath: `/.models/${size}/` }, model: MODEL, forceDevice: 'wasm' });
  const t0 = performance.now();
  await client.load();
  return { loadMs: performance.now() - t0 };
}

async function visionTurn({ detail, tokens }: { detail: ImageDetail; tokens: number }): Promise<VisionTurn> {
  if (!client) throw new Error('visionOpen first');
  const settings: GenerationSettings = { ...DEFAULT_GENERATION, model: MODEL, maxNewTokens: tokens, imageDetail: detail };
  const frames: string[] = [];
  const onStatus = (e: Event) => {
    const s = (e as CustomEvent<EngineStatus>).detail;
    if (s.state === 'generating' && s.vision) frames.push(`${s.vision.frame}/${s.vision.frames}`);
  };
  client.addEventListener('status', onStatus);
  try {
    const out = await client.generate({ sessionId: 'bench', messages: [{ role: 'user', content: makeContent('What is in this picture?', true), timestamp: '' }], image: await photo(), settings });
    return { imageTokens: out.stats.imageTokens, visionMs: out.stats.visionMs ?? NaN, ttftMs: out.stats.timeToFirstTokenMs, frames, crossOriginIsolated: self.crossOriginIsolated };
  } finally {
    client.removeEventListener('status', onStatus);
  }
}

function visionClose(): void {
  client?.dispose();
  client = null;
}

window.glimpseBench = { visionOpen, visionTurn, visionClose };
