import type { PreTrainedModel } from '@huggingface/transformers';

/**
 * Stop between two tokens. transformers.js awaits `model.forward` once per decode step, but ONNX Runtime's
 * WASM run resolves as a microtask: the worker's event loop never gets a task turn while an answer is written,
 * so the abort message from the page waits until the answer is done. Two ways out, both read after each step:
 *
 * - Where the page is cross-origin isolated, the page sets a shared flag (a SharedArrayBuffer sent with the
 *   request) and the step reads it: one Atomics.load a token, no yield at all.
 * - Elsewhere, each step ends with one task turn of the event loop, so the abort message is handled; the
 *   stopping criteria then ends the answer after that token. The turn is a message to ourselves on a
 *   MessageChannel (a task with no clamp; setTimeout clamps nested timers to 4 ms), or setImmediate in Node.
 *   Not `scheduler.yield()`: its continuation is queued ahead of ordinary tasks, and the abort is an ordinary
 *   message task (measured in a Chromium worker: with scheduler.yield() between 2 ms steps a message posted
 *   to it was not handled in 600 ms; with the channel, on its next step). A turn costs microseconds on an idle
 *   core but gives the thread up: on this 2-core machine at load average 25-35 it cost 1.3-3.4 ms a step.
 */
export function yieldToTasks(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const ch = (channel ??= openChannel());
    waiting.push(resolve);
    ch.port2.postMessage(null);
  });
}

let channel: MessageChannel | null = null;
const waiting: (() => void)[] = [];

function openChannel(): MessageChannel {
  const ch = new MessageChannel();
  ch.port1.onmessage = () => waiting.shift()?.();
  return ch;
}

/** The running generation's shared stop flag, when the page sent one (one generation runs at a time). */
let watched: { flag: Int32Array; stop: () => void } | null = null;

/** Worker side: while a generation runs, `stop` is called after the step during which the page raised the flag. */
export function watchStopFlag(buffer: SharedArrayBuffer, stop: () => void): () => void {
  const w = { flag: new Int32Array(buffer), stop };
  watched = w;
  if (Atomics.load(w.flag, 0) !== 0) stop();
  return () => {
    if (watched === w) watched = null;
  };
}

/** Page side: a flag to send with a generate request, where it can be shared (a cross-origin isolated page). */
export function createStopFlag(): SharedArrayBuffer | undefined {
  return typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true ? new SharedArrayBuffer(4) : undefined;
}

export function raiseStopFlag(buffer: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(buffer), 0, 1);
}

function afterStep(): Promise<void> | void {
  if (!watched) return yieldToTasks();
  if (Atomics.load(watched.flag, 0) !== 0) watched.stop();
}

/** Makes every step of the model (prefill and each decode step) end by reading the stop flag or yielding. */
export function yieldAfterEachStep(model: PreTrainedModel): void {
  const m = model as unknown as { forward: (inputs: unknown) => Promise<unknown> };
  const forward = m.forward.bind(m);
  m.forward = async (inputs) => {
    const out = await forward(inputs);
    await afterStep();
    return out;
  };
}
