import { OutOfMemoryError, WorkerCrashedError, type GlimpseError } from '../errors';
import type { WorkerChannel } from './channel';
import { isOutOfMemory } from './error-facts';
import type { WorkerMemoryReport } from './protocol';

/**
 * Memory given back: WebAssembly memory never shrinks, so after one big picture the model's worker keeps its
 * peak (2–3 GiB at real size on WebAssembly, issue 21) for as long as it lives. The page reads the worker's
 * memory after every turn, and when it is far above what the loaded model holds at rest, replaces the worker
 * between turns (never under one): the model reloads from the browser's cache, the chats' KV caches are
 * lost (a turn re-reads its prompt), and pictures are not read again (their features are stored with them).
 */

/** When the worker counts as "far above" its steady size. */
export interface MemoryPolicy {
  /**
   * Give back when memory after a turn is above max(steady × factor, steady + floorBytes). The factor keeps
   * a big model's ordinary growth (a long chat's activations and KV copies) from triggering it; the floor
   * keeps a small model from being reloaded for every picture.
   */
  factor: number;
  floorBytes: number;
  /** The worker's budget for pictures, when set by the page (tests); otherwise the worker's own. */
  budgetBytes?: number;
}

/**
 * ×2, or 256 MiB over: at SmolVLM-256M's real size on WebAssembly (442 MiB at rest) that is 884 MiB, past a
 * long text chat's growth and far below a 13-frame picture's 1,753 MiB.
 */
export const DEFAULT_MEMORY_POLICY: MemoryPolicy = { factor: 2, floorBytes: 256 * 2 ** 20 };

/** What the page knows of the model worker's memory (Settings → Storage & models shows it). */
export interface EngineMemory {
  /** The worker's WebAssembly memory after the last load or turn. */
  nowBytes: number;
  /** What the loaded model held right after it loaded (its size at rest). */
  steadyBytes: number;
  /** After a turn above this, the worker is replaced between turns. */
  giveBackAboveBytes: number;
  /** The most the worker may use for a picture on this device. */
  budgetBytes: number;
  /** How many times memory was given back since the page opened. */
  givenBack: number;
  /** The last time: what the worker held before (and, once reloaded, after). */
  last?: { fromBytes: number; toBytes?: number; at: number };
}

/** Reads the worker's memory at the points that matter and says when to give it back. */
export class MemoryWatch {
  private _state: EngineMemory | null = null;

  constructor(
    private readonly channel: WorkerChannel,
    private readonly policy: MemoryPolicy,
    private readonly changed: (m: EngineMemory) => void,
  ) {}

  get state(): EngineMemory | null {
    return this._state;
  }

  /** Right after a load: the model's size at rest, the threshold that follows from it, and the budget. */
  async loaded(): Promise<void> {
    const r = await this.read();
    if (!r) return;
    const prev = this._state;
    const last = prev?.last && prev.last.toBytes === undefined ? { ...prev.last, toBytes: r.wasmBytes } : prev?.last;
    this.set({ ...this.figures(r), givenBack: prev?.givenBack ?? 0, ...(last ? { last } : {}) });
  }

  /**
   * After a turn: whether to give the memory back now. Only with nothing else under way (another chat's turn
   * queued behind this one would be cut off), and never while a turn runs: the read is queued behind it.
   */
  async shouldGiveBack(): Promise<WorkerMemoryReport | null> {
    const r = await this.read();
    if (!r || !this._state) return null;
    this.set({ ...this._state, nowBytes: r.wasmBytes });
    return r.wasmBytes > this._state.giveBackAboveBytes && !this.channel.busy ? r : null;
  }

  /** The worker holding `fromBytes` was replaced. */
  gaveBack(fromBytes: number): void {
    if (!this._state) return;
    this.set({ ...this._state, givenBack: this._state.givenBack + 1, last: { fromBytes, at: Date.now() } });
  }

  private figures(r: WorkerMemoryReport): Omit<EngineMemory, 'givenBack' | 'last'> {
    const steady = r.steadyBytes || r.wasmBytes;
    const above = Math.max(steady * this.policy.factor, steady + this.policy.floorBytes);
    return { nowBytes: r.wasmBytes, steadyBytes: steady, giveBackAboveBytes: above, budgetBytes: r.budgetBytes };
  }

  /** The worker's report, or null when it cannot say (not tracked: no WebAssembly heap; or it is gone). */
  private async read(): Promise<WorkerMemoryReport | null> {
    if (!this.channel.running) return null;
    try {
      const r = await this.channel.request('memory', this.policy.budgetBytes !== undefined ? { budgetBytes: this.policy.budgetBytes } : {});
      return r.limitBytes > 0 ? r : null;
    } catch {
      return null;
    }
  }

  private set(m: EngineMemory): void {
    this._state = m;
    this.changed(m);
  }
}

/**
 * The error a turn fails with when its worker died: out of memory when what killed it says so (an uncaught
 * "RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded", "Array buffer allocation failed"),
 * otherwise a crash. `detail` is the worker's ErrorEvent message ("Uncaught RangeError: …").
 */
export function crashError(detail: string): GlimpseError {
  const [, name = 'Error', text = detail] = /^(?:Uncaught )?(\w*Error): (.*)$/s.exec(detail) ?? [];
  if (isOutOfMemory({ name, message: text }, text)) {
    return new OutOfMemoryError(
      `The model ran out of memory and its worker stopped (${text}). It will restart for your next message: ` +
        'choose a lower image detail or a smaller photo, or close other tabs.',
      { detail },
    );
  }
  return new WorkerCrashedError(`The model's worker crashed: ${detail || 'unknown error'}. It will restart for your next message.`, { detail });
}
