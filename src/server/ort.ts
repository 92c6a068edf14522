/**
 * ONNX Runtime session options for the REST API, applied to every session transformers.js creates in this
 * process.
 *
 * Why: ONNX Runtime's CPU memory arena keeps the largest block set a run ever needed and never gives it back.
 * One allowed 8,000-character message (1,609 prompt tokens; attention over the whole prompt in 30 layers)
 * took RSS from 1,584 to 2,725 MB for good, and a second one to 3,621 MB (real-size SmolVLM-256M, fp32). With
 * the arena off, large buffers go back to the system after each run: 1,566 → 1,637 MB, then 1,822 MB (the
 * sessions' KV caches, kept by design). The cost: the first long prompt after a start is slower (52 s
 * against 18 s on a quiet machine; the allocator has not yet learnt to keep such blocks), later ones are not
 * (12.9 s against 14.5 s). test/bench/long-message.ts measures both; SECURITY.md has the figures.
 *
 * How: the engine's load() (src/engine/engine.ts) takes no session options yet, so the server sets defaults on
 * the InferenceSession class transformers.js calls, the one onnxruntime-node exports to it. Options the
 * caller passes still win. The proper place is engine.load({ sessionOptions }) → from_pretrained({
 * session_options }); until then this is the server's, and only the server's, process-wide setting.
 */
import { createRequire } from 'node:module';

export interface OrtSessionDefaults {
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
}

type Create = (model: unknown, options?: Record<string, unknown>) => Promise<unknown>;
interface SessionClass {
  create: Create;
  __glimpseDefaults?: OrtSessionDefaults;
}

/** The InferenceSession class transformers.js uses (resolved from its own folder, so it is the same module). */
function sessionClass(): SessionClass {
  const require = createRequire(import.meta.resolve('@huggingface/transformers'));
  return (require('onnxruntime-node') as { InferenceSession: SessionClass }).InferenceSession;
}

/** Sets the defaults for sessions created from now on (models loaded after this call). Idempotent. */
export function setOrtSessionDefaults(defaults: OrtSessionDefaults): void {
  const cls = sessionClass();
  if (cls.__glimpseDefaults === undefined) {
    const create = cls.create.bind(cls);
    cls.create = (model, options) => create(model, { ...cls.__glimpseDefaults, ...options });
  }
  cls.__glimpseDefaults = { ...defaults };
}
