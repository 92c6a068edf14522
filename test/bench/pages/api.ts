/** What the bench pages expose on `window.glimpseBench`, shared by the pages and the Node side. */

export interface IdbSeedOptions {
  db: string;
  sessions: number;
  messages: number;
}

export interface IdbMeasurement {
  /** SessionStore.list() of every session, as the session list does on start. */
  listMs: number;
  listed: number;
  /** What the conversation view awaits to open a chat: transcript, context and session record. */
  openMs: number;
  opened: number;
}

export interface WasmRun {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
  imageTokens: number;
  followupTtftMs: number;
  followupVisionRan: boolean;
}

/** One engine worker's figures: ONNX Runtime on `threads` threads (1, or what the app picks when isolated). */
export interface WasmSeries {
  threads: number;
  loadMs: number;
  runs: WasmRun[];
}

export interface WasmOptions {
  runs: number;
  tokens: number;
  /** transformers.js' localModelPath on the dev server, e.g. /.models/tiny/. */
  modelPath: string;
  /** One engine worker per entry; undefined = the app's own choice (src/engine/threads.ts). Runs alternate. */
  threads: (number | undefined)[];
}

export interface WasmResult {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  series: WasmSeries[];
}

export interface VisionTurn {
  imageTokens: number;
  visionMs: number;
  ttftMs: number;
  /** The frames the page heard being read ("5/17"), in order. */
  frames: string[];
  crossOriginIsolated: boolean;
}

export interface BenchPageApi {
  idbSeed?(opts: IdbSeedOptions): Promise<{ seedMs: number; sessionId: string }>;
  idbMeasure?(opts: { db: string; sessionId: string }): Promise<IdbMeasurement>;
  wasm?(opts: WasmOptions): Promise<WasmResult>;
  visionOpen?(opts: { size: 'tiny' | 'real' }): Promise<{ loadMs: number }>;
  visionTurn?(opts: { detail: 'low' | 'auto' | 'high'; tokens: number }): Promise<VisionTurn>;
  visionClose?(): void;
}

declare global {
  interface Window {
    glimpseBench: BenchPageApi;
  }
}
