import type { PreTrainedModel } from '@huggingface/transformers';

/**
 * Stop between two tokens. transformers.js awaits `model.forward` once per decode step, but ONNX Runtime's
 * WASM run resolves as a microtask: the worker's event loop never gets a task turn while an answer is written,
 * so the abort message from the page waits until the answer is done. Giving the loop one task turn after each
 * step lets the abort handler run; the stopping criteria then ends the answer after that token.
 *
 * The turn is a message to ourselves on a MessageChannel (a task with no clamp; setTimeout clamps nested
 * timers to 4 ms), or setImmediate in Node. Not `scheduler.yield()`: its continuation is queued ahead of
 * ordinary tasks, and the abort is an ordinary message task (measured in a Chromium worker: with scheduler.yield()
 * between 2 ms steps a message posted to it was not handled in 600 ms; with the channel, on its next step).
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

/** Makes every step of the model (prefill and each decode step) end with one task turn of the event loop. */
export function yieldAfterEachStep(model: PreTrainedModel): void {
  const m = model as unknown as { forward: (inputs: unknown) => Promise<unknown> };
  const forward = m.forward.bind(m);
  m.forward = async (inputs) => {
    const out = await forward(inputs);
    await yieldToTasks();
    return out;
  };
}
