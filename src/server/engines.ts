/**
 * Which engine answers the REST API's turns (GLIMPSE_ENGINE), built at start. The local engine's modules
 * (transformers.js, and with it onnxruntime-node) are imported only when it is chosen: a server that asks an
 * inference server for its answers never loads them, nor their memory.
 */
import type { ChatBackend } from '../chat/backend';
import { formatName, formatNames, type ImageInfo } from '../chat/images';
import { ImageUnreadableError, UnsupportedImageError } from '../errors';
import type { ApiConfig } from './config';
import type { ModelStatus } from './handler';
import { API_IMAGE_TYPES, API_READER } from './image-types';

export { API_IMAGE_TYPES, API_READER };
import { OpenAIEngine, type OpenAIEngineOptions } from './openai-engine';

/**
 * What the server needs of its model: answers, a status for /health, and a close. NodeBackend (SmolVLM here),
 * or OpenAIEngine (an inference server, GLIMPSE_ENGINE=openai). Defined here, beside the factory that makes
 * them, so that node.ts depends on this module and never the other way.
 */
export interface ApiBackend extends ChatBackend, ModelStatus {
  close(): Promise<void>;
}

/** Callbacks and settings for the inference-server engine (metrics wire the hooks, the log its failures; tests shorten the backoff). */
export type EngineHooks = Pick<OpenAIEngineOptions, 'onRetry' | 'onUpstreamError' | 'retry' | 'health' | 'log'>;

/** The configured engine: OpenAIEngine for GLIMPSE_ENGINE=openai, else SmolVLM on onnxruntime-node. */
export async function createEngine(config: ApiConfig, hooks: EngineHooks = {}): Promise<ApiBackend> {
  if (config.engine.kind === 'openai') return new OpenAIEngine({ ...hooks, config: config.engine });
  const [{ NodeBackend }, { VlmEngine }] = await Promise.all([import('./backend'), import('../engine/engine')]);
  return new NodeBackend({
    model: config.model,
    source: config.source,
    dtypes: config.dtypes,
    engine: new VlmEngine({ kvBudgetBytes: config.kvCacheMB * 2 ** 20 }),
    // With ONNX Runtime's CPU memory arena, one long prompt keeps its peak memory for good: 1,584 → 2,725 MB
    // after one 8,000-character message, 3,621 MB after a second (SECURITY.md, test/bench/long-message.ts).
    sessionOptions: { enableCpuMemArena: config.ortArena },
  });
}

const unreadable = () => new ImageUnreadableError('This image could not be decoded; it may be damaged or cut short.');


function refuseBmp(info: ImageInfo): void {
  if (API_IMAGE_TYPES.includes(info.mime)) return;
  throw new UnsupportedImageError(
    `${API_READER} reads ${formatNames(API_IMAGE_TYPES)} images, not ${formatName(info.mime)}: convert it to PNG (no loss) and send it again.`,
    { mime: info.mime },
  );
}

/**
 * Decodes an image before anything is stored. The local engine checks with its own decoder (sharp, through
 * transformers.js); with an inference server, sharp itself (transformers.js would load onnxruntime-node).
 */
export function decodeCheckFor(config: ApiConfig): (blob: Blob, info: ImageInfo) => Promise<void> {
  if (config.engine.kind === 'openai') {
    return async (blob, info) => {
      refuseBmp(info);
      const { default: sharp } = await import('sharp');
      try {
        // Every pixel decoded, with sharp's defaults, as RawImage.fromBlob does for the local engine.
        await sharp(new Uint8Array(await blob.arrayBuffer())).raw().toBuffer();
      } catch {
        throw unreadable();
      }
    };
  }
  return async (blob, info) => {
    refuseBmp(info);
    const { RawImage } = await import('@huggingface/transformers');
    try {
      await RawImage.fromBlob(blob);
    } catch {
      throw unreadable();
    }
  };
}
