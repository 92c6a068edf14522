import {
  AutoModelForVision2Seq,
  AutoProcessor,
  InterruptableStoppingCriteria,
  RawImage,
  Tensor,
  TextStreamer,
  env,
  type PreTrainedModel,
  type Processor,
  type ProgressInfo,
} from '@huggingface/transformers';
import type { ChatMessage } from '../chat/messages';
import { GenerationAbortedError, ImageUnreadableError, PromptTooLongError } from '../errors';
import { classifyEngineError } from './errors';
import { planImage, TOKENS_PER_FRAME } from './image';
import { planReuse, renderSegments, segmentsOf, type CacheState, type Checkpoint } from './prompt';
import type { Device, DtypeMap, GenerateInput, GenerateOutput, LoadProgress, ModelSource } from './protocol';

/**
 * SmolVLM through transformers.js: load, and generate with the KV cache kept between turns.
 * Environment-agnostic: the worker runs it on WebGPU/WASM, Node tests and benchmarks on onnxruntime-node.
 */

type KvCache = Record<string, Tensor> & { dispose(): Promise<void> };

interface ImageInputs {
  pixel_values: Tensor;
  pixel_attention_mask: Tensor;
  rows: number[][];
  cols: number[][];
}

interface GenerateResultDict {
  sequences: Tensor;
  past_key_values: KvCache;
}

export interface LoadOptions {
  model: string;
  device: Device;
  dtypes: DtypeMap;
  source: ModelSource;
  onProgress?: (p: LoadProgress) => void;
}

export interface GenerateOptions {
  onToken?: (text: string, tokens: number) => void;
  signal?: AbortSignal;
  /** Tests and benchmarks: ignore the KV cache (the naive full re-prefill). */
  noCache?: boolean;
}

/** Points transformers.js at the hub, a self-hosted copy with the hub's layout, or a local folder. */
export function configureSource(source: ModelSource): void {
  if (source.kind === 'local') {
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = source.localModelPath.endsWith('/') ? source.localModelPath : `${source.localModelPath}/`;
  } else {
    env.allowLocalModels = false;
    env.allowRemoteModels = true;
    env.remoteHost = source.remoteHost ?? 'https://huggingface.co/';
    env.remotePathTemplate = source.remotePathTemplate ?? '{model}/resolve/{revision}/';
  }
}

export class VlmEngine {
  private processor: Processor | null = null;
  private model: PreTrainedModel | null = null;
  private loaded: { model: string; device: Device; dtypes: DtypeMap } | null = null;
  private cache: (CacheState & { past: KvCache }) | null = null;
  private imageTokenId = -1;
  private maxPositions = 8192;
  /**
   * Chat-template renders of the last generate, keyed by the messages. renderSegments renders every prefix
   * of the conversation (2 per message, ~1-2 ms each): a follow-up re-renders only the prefixes that are new.
   */
  private renders = new Map<string, string>();

  get current(): { model: string; device: Device; dtypes: DtypeMap } | null {
    return this.loaded;
  }

  async load(opts: LoadOptions): Promise<{ loadMs: number }> {
    const t0 = performance.now();
    if (this.loaded && this.loaded.model === opts.model && this.loaded.device === opts.device &&
        JSON.stringify(this.loaded.dtypes) === JSON.stringify(opts.dtypes)) {
      return { loadMs: 0 };
    }
    await this.unload();
    configureSource(opts.source);
    const progress = new ProgressTracker(opts.model, opts.onProgress);
    const progress_callback = (info: ProgressInfo) => progress.update(info);
    try {
      const [processor, model] = await Promise.all([
        AutoProcessor.from_pretrained(opts.model, { progress_callback }),
        AutoModelForVision2Seq.from_pretrained(opts.model, {
          dtype: { ...opts.dtypes },
          device: opts.device,
          progress_callback,
        }),
      ]);
      this.processor = processor;
      this.model = model;
    } catch (err) {
      throw classifyEngineError(err, { model: opts.model, phase: 'load' });
    }
    const config = this.model.config as unknown as {
      image_token_id?: number;
      text_config?: { max_position_embeddings?: number };
    };
    this.imageTokenId = config.image_token_id ?? -1;
    this.maxPositions = config.text_config?.max_position_embeddings ?? 8192;
    this.loaded = { model: opts.model, device: opts.device, dtypes: opts.dtypes };
    progress.finish();
    return { loadMs: performance.now() - t0 };
  }

  async unload(): Promise<void> {
    await this.resetCache();
    const model = this.model as unknown as { dispose?: () => Promise<unknown> } | null;
    await model?.dispose?.();
    this.model = null;
    this.processor = null;
    this.loaded = null;
    this.renders = new Map();
  }

  async resetCache(): Promise<void> {
    const c = this.cache;
    this.cache = null;
    await c?.past.dispose().catch(() => undefined);
  }

  /** Tokens the KV cache holds now (for tests and stats). */
  get cachedTokens(): number {
    return this.cache?.pastLength ?? 0;
  }

  async generate(input: GenerateInput, opts: GenerateOptions = {}): Promise<GenerateOutput> {
    const { processor, model, loaded } = this.requireLoaded();
    const t0 = performance.now();
    const s = input.settings;
    const detail = s.imageDetail;

    const used = new Map<string, string>();
    const render = (msgs: ChatMessage[], add: boolean) => {
      const key = `${add ? 1 : 0}${JSON.stringify(msgs)}`;
      const text = used.get(key) ?? this.renders.get(key) ??
        (processor.apply_chat_template(msgs as never, { add_generation_prompt: add, tokenize: false }) as unknown as string);
      used.set(key, text);
      return text;
    };
    const { text, boundaries } = renderSegments(input.messages, render);
    this.renders = used;
    const imageAt = text.indexOf('<image>');
    if (input.image && imageAt < 0) throw new Error('An image was given but no message carries an image part.');

    const modelKey = `${loaded.model}|${loaded.device}|${JSON.stringify(loaded.dtypes)}`;
    const imageKey = input.image ? `${input.image.hash}|${detail}` : null;
    const plan = opts.noCache ? { keepTokens: 0, keepChars: 0, reason: 'empty' as const } : planReuse(this.cache, modelKey, text, imageKey);
    const cache = plan.keepTokens > 0 ? this.cache : null;
    if (!cache) await this.resetCache();

    // Tokenize only the part the cache does not cover, segment by segment.
    let ids: number[] = cache ? cache.ids.slice(0, plan.keepTokens) : [];
    const checkpoints: Checkpoint[] = cache ? cache.checkpoints.filter((c) => c.tokens <= plan.keepTokens) : [];
    let imageInputs: ImageInputs | null = null;
    let visionRan = false;
    for (const seg of segmentsOf(boundaries, plan.keepChars)) {
      let piece = text.slice(seg.start, seg.end);
      if (seg.start <= imageAt && imageAt < seg.end && input.image) {
        imageInputs = await this.prepareImage(processor, input.image.blob, detail);
        visionRan = true;
        piece = piece.replace('<image>', imagePromptString(imageInputs, processor));
      }
      const segIds = processor.tokenizer!.encode(piece, { add_special_tokens: ids.length === 0 });
      ids = ids.concat(segIds);
      checkpoints.push({ chars: seg.end, tokens: ids.length });
    }

    const imageTokens = ids.reduce((n, id) => n + (id === this.imageTokenId ? 1 : 0), 0);
    if (ids.length >= this.maxPositions) {
      throw new PromptTooLongError(
        `This conversation is ${ids.length} tokens, more than the model can read (${this.maxPositions}). ` +
          'Start a new chat, lower the context window or use a lower image detail.',
        { tokens: ids.length, max: this.maxPositions },
      );
    }
    const maxNewTokens = Math.max(1, Math.min(s.maxNewTokens, this.maxPositions - ids.length));

    // Cut the cache back to the kept prefix when the prompt changed before its end.
    let past: KvCache | null = cache ? cache.past : null;
    if (cache && plan.keepTokens < cache.pastLength) past = await sliceCache(cache.past, plan.keepTokens);
    this.cache = null; // the cache is mutated in place by generate: never reuse it if that fails

    const stopping = new InterruptableStoppingCriteria();
    const onAbort = () => stopping.interrupt();
    opts.signal?.addEventListener('abort', onAbort);
    if (opts.signal?.aborted) stopping.interrupt();
    let firstTokenAt = 0;
    let generated = 0;
    let partial = '';
    const streamer = new TextStreamer(processor.tokenizer!, {
      skip_prompt: true,
      skip_special_tokens: true,
      callback_function: (piece: string) => {
        partial += piece;
        opts.onToken?.(piece, generated);
      },
      token_callback_function: () => {
        generated += 1;
        if (!firstTokenAt) firstTokenAt = performance.now();
      },
    } as never);

    const pastLength = past ? pastLengthOf(past) : 0;
    const inputIds = new Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]);
    let result: GenerateResultDict;
    try {
      result = (await model.generate({
        input_ids: inputIds,
        attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
        ...(imageInputs ? { pixel_values: imageInputs.pixel_values, pixel_attention_mask: imageInputs.pixel_attention_mask } : {}),
        ...(past ? { past_key_values: past } : {}),
        max_new_tokens: maxNewTokens,
        do_sample: s.temperature > 0,
        ...(s.temperature > 0 ? { temperature: s.temperature, top_p: s.topP } : {}),
        repetition_penalty: s.repetitionPenalty,
        streamer,
        stopping_criteria: [stopping],
        return_dict_in_generate: true,
      } as never)) as unknown as GenerateResultDict;
    } catch (err) {
      await past?.dispose().catch(() => undefined);
      throw classifyEngineError(err, { model: loaded.model, phase: 'generate' });
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }

    const sequence = Array.from(result.sequences.data as BigInt64Array, (x) => Number(x));
    const newIds = sequence.slice(ids.length);
    const rawText = processor.tokenizer!.decode(newIds, { skip_special_tokens: false });
    // The text the template will render for this answer next turn: "Assistant: " + answer (see prompt.ts).
    const answer = processor.tokenizer!.decode(newIds, { skip_special_tokens: true }).replace(/^ /, '');
    const fullText = text + rawText;
    this.cache = {
      modelKey,
      text: fullText,
      ids: sequence,
      checkpoints: [...checkpoints, { chars: fullText.length, tokens: sequence.length }],
      pastLength: pastLengthOf(result.past_key_values),
      image: imageKey !== null && imageAt >= 0 ? { key: imageKey, at: imageAt } : null,
      past: result.past_key_values,
    };
    if (opts.noCache) await this.resetCache();

    const totalMs = performance.now() - t0;
    const decodeMs = firstTokenAt ? performance.now() - firstTokenAt : 0;
    const stats = {
      model: loaded.model,
      device: loaded.device,
      tokens: newIds.length,
      promptTokens: ids.length,
      cachedTokens: Math.min(plan.keepTokens, pastLength),
      imageTokens,
      visionRan,
      timeToFirstTokenMs: firstTokenAt ? firstTokenAt - t0 : totalMs,
      tokensPerSecond: newIds.length > 1 && decodeMs > 0 ? ((newIds.length - 1) * 1000) / decodeMs : 0,
      totalMs,
    };
    if (stopping.interrupted || opts.signal?.aborted) {
      throw new GenerationAbortedError('Stopped.', { partial: answer || partial, stats });
    }
    return { text: answer, stats };
  }

  private requireLoaded() {
    if (!this.processor || !this.model || !this.loaded) throw new Error('No model is loaded.');
    return { processor: this.processor, model: this.model, loaded: this.loaded };
  }

  private async prepareImage(processor: Processor, blob: Blob, detail: GenerateInput['settings']['imageDetail']): Promise<ImageInputs> {
    let image: RawImage;
    try {
      image = await RawImage.fromBlob(blob);
    } catch (err) {
      throw new ImageUnreadableError('The model could not read this image; it may be damaged. Try another file.', {
        cause: String(err),
      });
    }
    const plan = planImage(image.width, image.height, detail);
    const ip = processor.image_processor as unknown as {
      size: { longest_edge: number };
      (img: RawImage, o: { do_image_splitting: boolean; return_row_col_info: boolean }): Promise<ImageInputs>;
    };
    // The processor resizes the longest edge to size.longest_edge; "auto" must not upscale small images.
    const saved = ip.size;
    ip.size = { ...saved, longest_edge: plan.longestEdge };
    try {
      return await ip(image, { do_image_splitting: plan.doImageSplitting, return_row_col_info: true });
    } finally {
      ip.size = saved;
    }
  }
}

/** The processor's own expansion of one `<image>` placeholder (tiles, then the global frame). */
function imagePromptString(inputs: ImageInputs, processor: Processor): string {
  const seqLen = (processor.config as { image_seq_len?: number }).image_seq_len ?? TOKENS_PER_FRAME;
  const rows = inputs.rows[0]?.[0] ?? 0;
  const cols = inputs.cols[0]?.[0] ?? 0;
  const fake = '<fake_token_around_image>';
  const img = '<image>'.repeat(seqLen);
  const global = `${fake}<global-img>${img}${fake}`;
  if (rows === 0 && cols === 0) return global;
  let out = '';
  for (let r = 1; r <= rows; r++) {
    for (let c = 1; c <= cols; c++) out += `${fake}<row_${r}_col_${c}>${img}`;
    out += '\n';
  }
  return `${out}\n${global}`;
}

function pastLengthOf(past: KvCache): number {
  for (const [k, t] of Object.entries(past)) {
    if (k.startsWith('past_key_values.') && t instanceof Tensor) return t.dims.at(-2) ?? 0;
  }
  return 0;
}

/** A copy of the cache cut to its first `length` positions (downloaded from the GPU when it lives there). */
async function sliceCache(past: KvCache, length: number): Promise<KvCache> {
  const entries: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(past)) {
    if (!(t instanceof Tensor)) continue;
    const [b, h, , d] = t.dims as [number, number, number, number];
    const seq = t.dims[2]!;
    const ort = (t as unknown as { ort_tensor: { getData(): Promise<Float32Array> } }).ort_tensor;
    const data = t.location === 'gpu-buffer' ? await ort.getData() : (t.data as Float32Array);
    const out = new Float32Array(b * h * length * d);
    for (let bh = 0; bh < b * h; bh++) {
      out.set(data.subarray(bh * seq * d, bh * seq * d + length * d), bh * length * d);
    }
    entries[name] = new Tensor(t.type as 'float32', out, [b, h, length, d]);
  }
  await past.dispose().catch(() => undefined);
  const Ctor = past.constructor as new (e: Record<string, Tensor>) => KvCache;
  return new Ctor(entries);
}

/** Turns transformers.js progress events into per-file and overall bytes. */
class ProgressTracker {
  private files = new Map<string, { loaded: number; total: number; done: boolean }>();
  private last = 0;
  constructor(private readonly model: string, private readonly cb?: (p: LoadProgress) => void) {}

  update(info: ProgressInfo): void {
    if (!this.cb) return;
    if (info.status === 'initiate' || info.status === 'download') {
      if (!this.files.has(info.file)) this.files.set(info.file, { loaded: 0, total: 0, done: false });
    } else if (info.status === 'progress') {
      this.files.set(info.file, { loaded: info.loaded, total: info.total, done: false });
    } else if (info.status === 'done') {
      const f = this.files.get(info.file) ?? { loaded: 0, total: 0, done: false };
      this.files.set(info.file, { loaded: Math.max(f.loaded, f.total), total: f.total, done: true });
    } else {
      return;
    }
    // At most ~10 updates a second: the page only needs to redraw a progress bar.
    const now = Date.now();
    if (info.status === 'progress' && now - this.last < 100) return;
    this.last = now;
    this.emit();
  }

  finish(): void {
    for (const f of this.files.values()) {
      f.done = true;
      f.loaded = Math.max(f.loaded, f.total);
    }
    this.emit();
  }

  private emit(): void {
    const files = [...this.files].map(([file, f]) => ({ file, ...f }));
    this.cb?.({
      model: this.model,
      files,
      loaded: files.reduce((n, f) => n + f.loaded, 0),
      total: files.reduce((n, f) => n + f.total, 0),
    });
  }
}
