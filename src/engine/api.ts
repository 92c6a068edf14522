import type { DeviceChoice, EngineStatus } from './protocol';

/**
 * What the UI sees of the local engine (implemented by EngineClient in client.ts).
 *
 * Events:
 * - `status`: CustomEvent<EngineStatus> whenever the state changes (loading progress included).
 * - `notice`: CustomEvent<EngineNotice> for things the user should be told (fell back to WASM, the GPU
 *   device was lost and the engine restarted, ...).
 */
export interface EngineController extends EventTarget {
  readonly status: EngineStatus;
  /** Known once the device was probed (before or during the first load). */
  readonly device: DeviceChoice | null;
  /** The model the engine is (or will be) running. */
  readonly model: string;
  /** Loads (or switches to) a model; resolves when it is ready. Safe to call repeatedly. */
  load(model?: string): Promise<void>;
  /** Probes the device without loading anything. */
  probe(): Promise<DeviceChoice>;
}

export interface EngineNotice {
  level: 'info' | 'warning' | 'error';
  message: string;
}
