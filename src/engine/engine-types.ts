/** The engine's options and a turn's prompt (src/engine/engine.ts uses them; the server and tests pass them). */
import type { Device, DtypeMap, ImageFeatures, LoadProgress, ModelSource, VisionProgress } from './protocol';
import type { ImageInputs } from './vision';
import type { MemoryRoom } from './picture-memory';

export interface EngineOptions {
  kvBudgetBytes?: number;
  /** The memory left for pictures (the worker measures it). */
  memoryRoom?: () => MemoryRoom | null;
  visionFramesPerBatch?: number;
  prefillChunkTokens?: number;
}

export interface LoadOptions {
  model: string;
  device: Device;
  dtypes: DtypeMap;
  source: ModelSource;
  onProgress?: (p: LoadProgress) => void;
  /**
   * ONNX Runtime session options for every file (Node's REST API turns the CPU memory arena off: with it, one
   * long prompt keeps its peak memory for good).
   */
  sessionOptions?: { enableCpuMemArena?: boolean; enableMemPattern?: boolean };
}

export interface GenerateOptions {
  onToken?: (text: string, tokens: number) => void;
  /** Hears which frame of the picture the vision encoder reads ("frame 5 of 13"). */
  onVision?: (p: VisionProgress) => void;
  signal?: AbortSignal;
  /**
   * Tests and benchmarks: the naive full recompute, ignoring the KV caches and the features kept in memory
   * (features passed in the input are still used).
   */
  noCache?: boolean;
}

/** A turn's prompt, tokenized canonically, and where its picture sits. */
export interface TurnPrompt {
  ids: number[];
  /** The picture in context: hash + detail, the token index its expansion starts at, the expansion text. */
  image: { key: string; at: number; expansion: string } | null;
  /** Frames for the vision encoder, when they were prepared (a picture not in the cache). */
  pixels: ImageInputs | null;
  /** The picture's kept features for this encoder, when known: fed instead of running the encoder. */
  features: ImageFeatures | null;
  /** The encoder key features of this picture are kept under. */
  featureKey: string | null;
  /** Continue: the answer so far, which the prompt ends with (the new tokens extend it). */
  answerSoFar: string | null;
  /** Continue from the cache as sampled: the token index the answer starts at (see continueExactly). */
  answerFrom: number | null;
}
