/**
 * Issue 21: the worker reads a picture's frames one at a time on WebAssembly, and the page hears which frame
 * it reads. The app's EngineClient and engine worker on the tiny model (q8 files, as the app picks for WASM).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { hashBlob } from '../../../src/chat/images';
import { makeContent } from '../../../src/chat/messages';
import { EngineClient } from '../../../src/engine/client';
import type { EngineStatus } from '../../../src/engine/protocol';
import { stageText } from '../../../src/ui/stage';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const settings: GenerationSettings = { ...DEFAULT_GENERATION, model: MODEL, maxNewTokens: 4, repetitionPenalty: 1, imageDetail: 'high' };

async function photo(): Promise<{ blob: Blob; hash: string }> {
  const canvas = new OffscreenCanvas(512, 512);
  const ctx = canvas.getContext('2d')!;
  for (let i = 0; i < 12; i++) {
    ctx.fillStyle = `hsl(${(i * 47) % 360} 80% 50%)`;
    ctx.fillRect((i * 53) % 512, (i * 31) % 512, 120, 90);
  }
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { blob, hash: await hashBlob(blob) };
}

describe('a 17-frame picture on WebAssembly', () => {
  it('the status says which frame is read, 1 to 17 in order, then writing; a second turn reads none', async () => {
    const client = new EngineClient({ source: { kind: 'local', localModelPath: '/.models/tiny/' }, model: MODEL, forceDevice: 'wasm' });
    const stages: string[] = [];
    client.addEventListener('status', (e) => {
      const s = (e as CustomEvent<EngineStatus>).detail;
      if (s.state === 'generating') stages.push(stageText(s) ?? '');
    });
    try {
      const img = await photo();
      const messages = [{ role: 'user' as const, content: makeContent('What is in this picture?', true), timestamp: '' }];
      const out = await client.generate({ sessionId: 'v', messages, image: img, settings });
      expect(out.stats).toMatchObject({ visionRan: true, imageTokens: 17 * 64 });
      const frames = stages.filter((s) => s.startsWith('Reading the image · frame'));
      expect(frames).toEqual(Array.from({ length: 17 }, (_, i) => `Reading the image · frame ${i + 1} of 17`));
      expect(stages.indexOf('Writing')).toBeGreaterThan(stages.lastIndexOf(frames.at(-1)!));
      expect(out.features?.dims).toEqual([17, 64, expect.any(Number)]);

      // The features came back with the answer: given again, the encoder does not run and no frame is read.
      stages.length = 0;
      const again = await client.generate({ sessionId: 'w', messages, image: img, settings, features: [out.features!] });
      expect(again.stats).toMatchObject({ visionRan: false, featuresReused: true });
      expect(stages.some((s) => s.includes('frame'))).toBe(false);
      expect(again.text).toBe(out.text);
    } finally {
      client.dispose();
    }
  });
});
