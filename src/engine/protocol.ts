/**
 * The one protocol between the page and the engine worker. Every request carries an id; the worker
 * answers that id with progress/token events and exactly one done or error. Errors travel as
 * SerializedError and are rebuilt into their named class on the page (src/errors.ts).
 */
import type { GenerationSettings } from '../chat/backend';
import type { ImageFeatures } from '../chat/features';
import type { ChatMessage } from '../chat/messages';
import type { SerializedError } from '../errors';
import type { WorkerMemoryReport } from './memory';

export type { ImageFeatures } from '../chat/features';
export type { WorkerMemory, WorkerMemoryReport } from './memory';

export type Device = 'webgpu' | 'wasm' | 'cpu';

/** Per-file dtype, keyed by the three Idefics3 ONNX files (a misspelled key silently loads fp32). */
export type Dtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';
export interface DtypeMap {
  vision_encoder: Dtype;
  embed_tokens: Dtype;
  decoder_model_merged: Dtype;
}

/** Where the user asked the model to run (Settings → Device): Auto picks the faster one. */
export type DevicePreference = 'auto' | 'webgpu' | 'wasm';

/**
 * Why the engine runs where it runs, as a code the UI words:
 * - `gpu`: a hardware WebGPU adapter (Auto) · `chosen`: the device the user picked in Settings
 * - `no-webgpu`: the browser has no WebGPU · `no-adapter`: WebGPU gives no adapter (disabled, blocklisted)
 * - `software-adapter`: the only adapter is a software one (SwiftShader), slower than WebAssembly
 * - `gpu-failed`: WebGPU could not start the model · `gpu-lost`: the GPU device was lost twice
 */
export type DeviceCause = 'gpu' | 'chosen' | 'no-webgpu' | 'no-adapter' | 'software-adapter' | 'gpu-failed' | 'gpu-lost';

/** Why the engine runs where it runs, for the UI. */
export interface DeviceChoice {
  device: Device;
  /** Human words: "WebGPU on <adapter>", or why WebGPU is not used and what it costs. */
  reason: string;
  /** True when WebGPU was wanted but is unavailable or slower (WebAssembly runs instead, and the UI says why). */
  fallback: boolean;
  shaderF16: boolean;
  adapter?: string;
  /** The reason as a code (absent from older callers: read `reason`). */
  cause?: DeviceCause;
  /** True when the adapter is a software one (CPU emulation of a GPU). */
  software?: boolean;
}

/** Where model files come from. */
export type ModelSource =
  | { kind: 'hub'; remoteHost?: string; remotePathTemplate?: string }
  | { kind: 'local'; localModelPath: string };

export interface FileProgress {
  file: string;
  loaded: number;
  total: number;
  done: boolean;
}

export interface LoadProgress {
  model: string;
  files: FileProgress[];
  loaded: number;
  total: number;
}

export interface GenerateInput {
  sessionId: string;
  messages: ChatMessage[];
  image: { blob: Blob; hash: string } | null;
  /** Stored features of the picture in context (any encoder): the engine uses the one that matches, if valid. */
  features?: ImageFeatures[];
  settings: GenerationSettings;
  /**
   * Continue: the last message is an answer cut at the token limit, and the model goes on writing it (the
   * prompt ends with its text, no end of turn); the output's text is the whole answer.
   */
  continueAnswer?: boolean;
}

export interface GenerateStats {
  model: string;
  device: Device;
  tokens: number;
  promptTokens: number;
  /** Prompt tokens served from the KV cache (not recomputed). */
  cachedTokens: number;
  imageTokens: number;
  /** True when the vision encoder ran this turn (not when the picture was in the KV cache or its features kept). */
  visionRan: boolean;
  /** True when the picture's kept features were fed instead of running the vision encoder. */
  featuresReused?: boolean;
  /** How long the vision encoder took, all frames (when it ran). */
  visionMs?: number;
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
  totalMs: number;
  /** 'stop': the model ended its answer; 'length': it was cut at the token limit or the model's context. */
  finishReason: 'stop' | 'length';
}

export interface GenerateOutput {
  text: string;
  stats: GenerateStats;
  /** Features the vision encoder computed this turn, for the caller to keep with the picture. */
  features?: ImageFeatures;
}

/** What the KV caches of recent chats hold in the worker, and the memory they may take. */
export interface KvUsage {
  chats: number;
  bytes: number;
  budget: number;
}

/** What the page asks the worker to load. */
export interface LoadRequest {
  model: string;
  device: Device;
  dtypes: DtypeMap;
  source: ModelSource;
  /**
   * ONNX Runtime's WebAssembly threads, when the page is cross-origin isolated (default: src/engine/threads.ts).
   * Read by the worker before its first model load only (the runtime starts once per worker).
   */
  threads?: number;
}

export interface LoadResult {
  model: string;
  device: Device;
  dtypes: DtypeMap;
  loadMs: number;
}

/** The events a running request reports before its one done or error, by event type. */
export interface EngineEvents {
  progress: { progress: LoadProgress };
  token: { text: string; tokens: number };
  /** The vision encoder starts reading frame `frame` (1-based) of the picture's `frames`. */
  vision: VisionProgress;
}

/** Which frame of a picture the vision encoder reads now ("frame 5 of 13"). */
export interface VisionProgress {
  frame: number;
  frames: number;
}

/**
 * Every request the worker answers: its parameters, what its `done` carries, and the events it may send
 * first. The page's `request`, the worker's handlers and the messages between them are all derived from
 * this one table, so a handler returning the wrong shape (or the page reading the wrong one) does not compile.
 */
export interface EngineCalls {
  load: { params: LoadRequest; result: LoadResult; events: 'progress' };
  /**
   * `stop`: where the page is cross-origin isolated, a shared flag it raises on Stop, read after each model step
   * (src/engine/yield.ts); the abort request is sent as well.
   */
  generate: { params: { input: GenerateInput; stop?: SharedArrayBuffer }; result: GenerateOutput; events: 'token' | 'vision' };
  /** Stops request `target` (a generation running or waiting its turn). */
  abort: { params: { target: number }; result: { aborted: boolean }; events: never };
  /** Drops the KV caches. */
  reset: { params: object; result: { ok: true }; events: never };
  /** Engine settings that apply without reloading the model (sent after each load and on change). */
  configure: { params: { kvBudgetBytes: number }; result: { kvUsage: KvUsage }; events: never };
  /**
   * The worker's WebAssembly memory now, at rest and its budget for pictures (queued: read between answers,
   * never under one). `budgetBytes` sets that budget (tests; 0 goes back to the device's own).
   */
  memory: { params: { budgetBytes?: number }; result: WorkerMemoryReport; events: never };
}

export type EngineCall = keyof EngineCalls;
export type ParamsOf<K extends EngineCall> = EngineCalls[K]['params'];
export type ResultOf<K extends EngineCall> = EngineCalls[K]['result'];
export type EventsOf<K extends EngineCall> = EngineCalls[K]['events'];

/** One request on the wire: its id, its type and its parameters, flat. */
export type RequestOf<K extends EngineCall> = { id: number; type: K } & ParamsOf<K>;
export type EngineRequest = { [K in EngineCall]: RequestOf<K> }[EngineCall];

export type EventOf<E extends keyof EngineEvents> = { id: number; type: E } & EngineEvents[E];
/** The one `done` of request `id`; `call` names the request type, so the result's type follows from it. */
export interface DoneOf<K extends EngineCall> {
  id: number;
  type: 'done';
  call: K;
  result: ResultOf<K>;
}

export type EngineResponse =
  | { [E in keyof EngineEvents]: EventOf<E> }[keyof EngineEvents]
  | DoneOf<EngineCall>
  | { id: number; type: 'error'; error: SerializedError };

/**
 * Whether `msg` is the done of a request of type `call`: the page checks this before it reads the result as
 * that request's (the worker sends `call` with every done, see handler.ts).
 */
export function isDoneOf<K extends EngineCall>(msg: EngineResponse, call: K): msg is DoneOf<K> {
  return msg.type === 'done' && msg.call === call;
}

/**
 * What an answer is waiting for before its first token, then `writing`:
 * `warmup` (the first answer after a WebGPU load compiles the GPU's shaders, once), `image` (the vision
 * encoder reads a picture the engine has not seen yet), `prompt` (reading the conversation).
 */
export type GenerationStage = 'warmup' | 'image' | 'prompt' | 'writing';

/** The engine's state as the UI shows it. */
export type EngineStatus =
  | { state: 'idle' }
  | { state: 'loading'; model: string; progress: LoadProgress | null }
  | { state: 'ready'; model: string }
  | { state: 'generating'; model: string; stage?: GenerationStage; vision?: VisionProgress }
  | { state: 'error'; model: string; error: SerializedError }
  | { state: 'restarting'; reason: string };
