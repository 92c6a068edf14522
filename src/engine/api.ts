import type { EngineMemory } from './memory-watch';
import type { DeviceChoice, DevicePreference, EngineStatus, ModelSource } from './protocol';

/** Engine settings the user changes in Settings. */
export interface EngineSettings {
  /** Where the model runs: Auto (the faster device here), the GPU (WebGPU) or the processor (WebAssembly). */
  device: DevicePreference;
  /** Memory the KV caches of recent chats may take, in bytes. */
  kvBudgetBytes: number;
  /** Where model files are downloaded from (Settings → Storage → Model host): the next load uses it. */
  source: ModelSource;
}

/**
 * What the UI sees of the local engine (implemented by EngineClient in client.ts).
 *
 * Events:
 * - `status`: CustomEvent<EngineStatus> whenever the state changes (loading progress included).
 * - `notice`: CustomEvent<EngineNotice> for things the user should be told (fell back to WASM, the GPU
 *   device was lost and the engine restarted, ...).
 * - `memory`: CustomEvent<EngineMemory> when the model worker's memory was read (after a load or a turn) or
 *   given back.
 */
export interface EngineController extends EventTarget {
  readonly status: EngineStatus;
  /** Known once the device was probed (before or during the first load). */
  readonly device: DeviceChoice | null;
  /** The model the engine is (or will be) running. */
  readonly model: string;
  /** The model worker's memory, when the engine can read it (WebAssembly's heap in the browser). */
  readonly memory?: EngineMemory | null;
  /** Loads (or switches to) a model; resolves when it is ready. Safe to call repeatedly. */
  load(model?: string): Promise<void>;
  /** Probes the device without loading anything. */
  probe(): Promise<DeviceChoice>;
  /** Applies Settings (another device restarts the engine; it reloads on next use). */
  configure(settings: Partial<EngineSettings>): Promise<void>;
  /** Whether a model's files for this device are already downloaded (it loads with no network). */
  isDownloaded(model?: string): Promise<boolean>;
  /** Forgets what is known to be downloaded (a model was deleted or imported); emits `status`. */
  forgetDownloads(): void;
}

export interface EngineNotice {
  level: 'info' | 'warning' | 'error';
  message: string;
}
