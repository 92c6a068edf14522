import { InterruptableStoppingCriteria, random, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { GenerationSettings } from '../chat/backend';
import { featuresTensor } from './features';
import type { KvCache } from './kv-cache';
import type { ImageFeatures } from './protocol';
import { TokenStreamer } from './streamer';
import type { ImageInputs } from './vision';

/** What the vision encoder does this turn: run on frames, be replaced by kept features, or nothing. */
export type VisionStep = { pixels: ImageInputs } | { features: ImageFeatures } | null;
export type EncodeImage = (inputs: Record<string, unknown>) => Promise<Tensor>;
/** Stands in for the model's vision encoder during one generate call. */
export type VisionHook = (inputs: Record<string, unknown>, encode: EncodeImage) => Promise<Tensor>;

export interface RunRequest {
  ids: number[];
  past: KvCache | null;
  vision: VisionStep;
  settings: GenerationSettings;
  maxPositions: number;
  signal?: AbortSignal;
  onToken?: (text: string, tokens: number) => void;
  /** Installs (or, with null, removes) the hook the engine put on the model's vision encoder. */
  setVisionHook: (hook: VisionHook | null) => void;
}

export interface Streamed {
  result: { sequences: Tensor; past_key_values: KvCache };
  /** What the vision encoder computed, when it ran. */
  computed: Tensor | null;
  firstTokenAt: number;
  partial: string;
  interrupted: boolean;
}

/** One transformers.js generate call: streaming, Stop, sampling settings, and the vision step. */
export async function runGenerate(model: PreTrainedModel, tokenizer: PreTrainedTokenizer, req: RunRequest): Promise<Streamed> {
  const stopping = new InterruptableStoppingCriteria();
  const onAbort = () => stopping.interrupt();
  req.signal?.addEventListener('abort', onAbort);
  if (req.signal?.aborted) stopping.interrupt();
  const out = { firstTokenAt: 0, partial: '', generated: 0, computed: null as Tensor | null };
  const streamer = new TokenStreamer(tokenizer, {
    onText: (piece: string) => {
      out.partial += piece;
      req.onToken?.(piece, out.generated);
    },
    onTokenId: () => {
      out.generated += 1;
      out.firstTokenAt ||= performance.now();
    },
  });
  const { vision, settings: s } = req;
  req.setVisionHook(async (inputs, encode) => {
    if (vision && 'features' in vision) return featuresTensor(vision.features);
    return (out.computed = await encode(inputs));
  });
  const n = req.ids.length;
  // transformers.js samples from its one global Mersenne Twister: seeding it makes a seeded answer repeat.
  if (s.temperature > 0 && s.seed !== undefined) random.seed(s.seed);
  try {
    const result = (await model.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(req.ids, (x) => BigInt(x)), [1, n]),
      attention_mask: new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
      ...visionInputs(vision),
      ...(req.past ? { past_key_values: req.past } : {}),
      max_new_tokens: Math.max(1, Math.min(s.maxNewTokens, req.maxPositions - n)),
      do_sample: s.temperature > 0,
      ...(s.temperature > 0 ? { temperature: s.temperature, top_p: s.topP } : {}),
      repetition_penalty: s.repetitionPenalty,
      streamer,
      stopping_criteria: [stopping],
      return_dict_in_generate: true,
    } as never)) as unknown as Streamed['result'];
    return { result, computed: out.computed, firstTokenAt: out.firstTokenAt, partial: out.partial, interrupted: stopping.interrupted };
  } finally {
    req.setVisionHook(null);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The generate() inputs that make transformers.js merge a picture into the prompt. With kept features the
 * frames are a one-element stand-in: the hooked encoder returns the features and never reads them.
 */
function visionInputs(vision: VisionStep): Record<string, Tensor> {
  if (!vision) return {};
  if ('pixels' in vision) return { pixel_values: vision.pixels.pixel_values, pixel_attention_mask: vision.pixels.pixel_attention_mask };
  return {
    pixel_values: new Tensor('float32', new Float32Array(1), [1, 1, 1, 1, 1]),
    pixel_attention_mask: new Tensor('bool', new Uint8Array(1), [1, 1, 1, 1]),
  };
}
