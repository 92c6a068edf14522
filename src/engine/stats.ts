import type { VisionStep } from './run';
import type { Device, GenerateStats } from './protocol';

/** What one turn did, as the engine measured it. */
export interface TurnFacts {
  t0: number;
  /** When the first answer token arrived (0: none did). */
  firstTokenAt: number;
  /** The prompt's token ids. */
  ids: readonly number[];
  imageTokenId: number;
  /** Answer tokens. */
  tokens: number;
  /** Prompt tokens read from the KV cache. */
  cached: number;
  vision: VisionStep;
  /** Milliseconds in the vision encoder, when it ran. */
  visionMs: number;
  /** True when the model ended the answer itself (its last token is an end-of-answer token). */
  ended: boolean;
}

/** A turn's figures for the reply's details, the REST API's headers and the benchmarks. */
export function turnStats(loaded: { model: string; device: Device }, f: TurnFacts): GenerateStats {
  const now = performance.now();
  const decodeMs = f.firstTokenAt ? now - f.firstTokenAt : 0;
  const ran = f.vision !== null && 'pixels' in f.vision;
  return {
    model: loaded.model,
    device: loaded.device,
    tokens: f.tokens,
    promptTokens: f.ids.length,
    cachedTokens: f.cached,
    imageTokens: f.ids.reduce((n, id) => n + (id === f.imageTokenId ? 1 : 0), 0),
    visionRan: ran,
    featuresReused: f.vision !== null && 'features' in f.vision,
    ...(ran ? { visionMs: f.visionMs } : {}),
    timeToFirstTokenMs: f.firstTokenAt ? f.firstTokenAt - f.t0 : now - f.t0,
    tokensPerSecond: f.tokens > 1 && decodeMs > 0 ? ((f.tokens - 1) * 1000) / decodeMs : 0,
    totalMs: now - f.t0,
    finishReason: f.ended ? 'stop' : 'length',
  };
}
