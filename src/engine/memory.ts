/**
 * The model worker's WebAssembly memory, read where it lives. ONNX Runtime Web's module (its threaded
 * build, the one transformers.js loads) creates its heap in JavaScript, `new WebAssembly.Memory({ initial,
 * maximum: 65536, shared: true })`, and keeps it private; so the worker entry installs {@link trackWasmMemory}
 * before ONNX Runtime loads, and every memory made from then on is seen. A WebAssembly memory never
 * shrinks: its `buffer.byteLength` is what the tab holds for it until the worker ends.
 */

import type { MemoryRoom } from './picture-memory';

/** What the worker's WebAssembly memories hold now, and the most they may grow to. */
export interface WorkerMemory {
  /** Bytes of WebAssembly memory the worker holds (every memory made since tracking began). */
  wasmBytes: number;
  /** The most those memories may grow to (WebAssembly's ceiling, 4 GiB for ONNX Runtime's heap); 0 when none. */
  limitBytes: number;
}

/** The worker's answer to a `memory` request: its memory now, at rest after the load, and its budget. */
export interface WorkerMemoryReport extends WorkerMemory {
  /** wasmBytes right after the model loaded (0 before a load). */
  steadyBytes: number;
  /** What pictures are judged against (see {@link WorkerRoom}); 0 when memory is not tracked (Node). */
  budgetBytes: number;
}

const PAGE = 65_536;
const seen: { memory: WeakRef<WebAssembly.Memory>; maxBytes: number }[] = [];
let installed = false;

/** Records every WebAssembly.Memory made from now on in this realm (a Proxy: `instanceof` still holds). */
export function trackWasmMemory(): void {
  if (installed || typeof WebAssembly === 'undefined') return;
  installed = true;
  const Original = WebAssembly.Memory;
  WebAssembly.Memory = new Proxy(Original, {
    construct(target, args: [WebAssembly.MemoryDescriptor], newTarget: typeof Original) {
      const memory = Reflect.construct(target, args, newTarget) as WebAssembly.Memory;
      // Without a maximum a 32-bit memory may grow to 65536 pages (4 GiB).
      seen.push({ memory: new WeakRef(memory), maxBytes: (args[0]?.maximum ?? 65_536) * PAGE });
      return memory;
    },
  });
}

/** The worker's WebAssembly memory now (0 when ONNX Runtime's WASM backend has not started). */
export function readWorkerMemory(): WorkerMemory {
  let wasmBytes = 0;
  let limitBytes = 0;
  for (const s of seen) {
    const memory = s.memory.deref();
    if (!memory) continue;
    wasmBytes += memory.buffer.byteLength;
    limitBytes += s.maxBytes;
  }
  return { wasmBytes, limitBytes };
}

/**
 * The worker's memory budget for pictures: the lesser of the heap's ceiling and half the device's memory
 * (navigator.deviceMemory, which Chrome rounds and caps at 8 GiB: a phone kills a tab long before the tab holds
 * all of it), unless the page set one. Not tracked (Node, or before ONNX Runtime started): no budget.
 */
export class WorkerRoom {
  private steady = 0;
  private override: number | null = null;

  /** Called right after a load: what the model holds at rest. */
  loaded(): void {
    this.steady = readWorkerMemory().wasmBytes;
  }

  setBudget(bytes: number | undefined): void {
    if (bytes !== undefined) this.override = bytes > 0 ? bytes : null;
  }

  report(): WorkerMemoryReport {
    const now = readWorkerMemory();
    return { ...now, steadyBytes: this.steady, budgetBytes: this.budget(now.limitBytes) };
  }

  /** For the engine's picture check: null while nothing is tracked. */
  room(): MemoryRoom | null {
    const budgetBytes = this.budget(readWorkerMemory().limitBytes);
    return budgetBytes > 0 ? { budgetBytes, steadyBytes: this.steady } : null;
  }

  private budget(limitBytes: number): number {
    if (this.override !== null) return this.override;
    if (limitBytes === 0) return 0;
    const device = (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory;
    return typeof device === 'number' && device > 0 ? Math.min(limitBytes, (device * 2 ** 30) / 2) : limitBytes;
  }
}
