import {
  AutoModelForVision2Seq,
  AutoProcessor,
  type Tensor,
  type PreTrainedModel,
  type Processor,
  type ProgressInfo,
} from '@huggingface/transformers';
import type { GenerationSettings } from '../chat/backend';
import { EngineError, GenerationAbortedError, PromptTooLongError } from '../errors';
import { configureSource } from './apply-source';
import { classifyEngineError } from './errors';
import { featureKey, FeatureMemory, isUsable } from './features';
import { TOKENS_PER_FRAME } from './image';
import { disposeCache, pastLengthOf, type KvCache } from './kv-cache';
import { cutPooledCache, KvPool } from './kv-pool';
import { checkPictureFits, visionShapeOf, type MemoryRoom, type VisionShape } from './picture-memory';
import { prefill, PREFILL_CHUNK, prefillChunks, restOf, tensorData } from './prefill';
import { planReuse, type ReusePlan } from './prompt';
import { ProgressTracker } from './progress';
import { turnStats } from './stats';
import { runGenerate, type EncodeImage, type Streamed, type VisionHook, type VisionStep } from './run';
import type { EngineOptions, GenerateOptions, LoadOptions, TurnPrompt } from './engine-types';
import type { Device, DtypeMap, GenerateInput, GenerateOutput, ImageFeatures } from './protocol';
import { renderTurn, sampledAnswerStart } from './continuation';
import { adaptTokenizer, encodePrompt, type PromptTokenizer } from './tokens';
import { gridOf, imagePromptString, prepareImage, type ImageInputs } from './vision';
import { VisionBatcher } from './vision-batches';
import { yieldAfterEachStep } from './yield';

/**
 * SmolVLM through transformers.js: load, and generate with the KV cache kept between turns.
 * Environment-agnostic: the worker runs it on WebGPU/WASM, Node tests and benchmarks on onnxruntime-node.
 */


/** Default memory for the KV caches of recent chats (several chats of a few thousand tokens each). */
export const DEFAULT_KV_BUDGET_BYTES = 512 * 2 ** 20;

export type { EngineOptions, GenerateOptions, LoadOptions } from './engine-types';

const IMAGE_PLACEHOLDER = '<image>';

/** What a cached prompt's picture is known by: the picture and the detail it was read at. */
const pictureKey = (input: GenerateInput): string => `${input.image!.hash}|${input.settings.imageDetail}`;

export class VlmEngine {
  private processor: Processor | null = null;
  private model: PreTrainedModel | null = null;
  private tokenizer: PromptTokenizer | null = null;
  private loaded: { model: string; device: Device; dtypes: DtypeMap } | null = null;
  /** KV caches of recent chats, by session id. */
  private readonly pool: KvPool;
  private readonly features = new FeatureMemory();
  private imageTokenId = -1;
  /** The tokens the model ends an answer with (generation_config.eos_token_id). */
  private eosIds = new Set<number>();
  private maxPositions = 8192;
  private hiddenSize = 0;
  private tokensPerFrame = TOKENS_PER_FRAME;
  /** Replaces the model's vision encoder for one generate call (kept features, or capturing what it computes). */
  private visionHook: VisionHook | null = null;
  private visionShape: VisionShape = visionShapeOf(null);
  /** The memory left for pictures (the worker measures it; none in Node, where nothing is checked). */
  private readonly memoryRoom: () => MemoryRoom | null;
  /** Reads a picture's frames a few at a time (one on WASM and CPU): bounded memory, same features. */
  readonly vision: VisionBatcher;
  /** Tokens a picture's long first prompt is prefilled in (prefill.ts; Infinity: one pass). */
  private readonly prefillChunk: number;

  /**
   * `visionFramesPerBatch`: a fixed batch size for the vision encoder, else the device's; `prefillChunkTokens`:
   * see prefill.ts (tests and benchmarks compare both with the one-batch, one-pass way).
   */
  constructor(opts: EngineOptions = {}) {
    this.pool = new KvPool(opts.kvBudgetBytes ?? DEFAULT_KV_BUDGET_BYTES);
    this.memoryRoom = opts.memoryRoom ?? (() => null);
    this.vision = new VisionBatcher(opts.visionFramesPerBatch ?? null);
    this.prefillChunk = opts.prefillChunkTokens ?? PREFILL_CHUNK;
  }

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
          ...(opts.sessionOptions ? { session_options: { ...opts.sessionOptions } } : {}),
        }),
      ]);
      this.processor = processor;
      this.model = model;
      this.tokenizer = adaptTokenizer(processor.tokenizer);
    } catch (err) {
      throw classifyEngineError(err, { model: opts.model, phase: 'load' });
    }
    const config = this.model.config as unknown as {
      image_token_id?: number;
      text_config?: { max_position_embeddings?: number; hidden_size?: number };
    };
    this.imageTokenId = config.image_token_id ?? -1;
    const eos = (this.model as unknown as { generation_config?: { eos_token_id?: number | number[] } | null }).generation_config?.eos_token_id;
    this.eosIds = new Set(eos === undefined ? [] : [eos].flat());
    this.maxPositions = config.text_config?.max_position_embeddings ?? 8192;
    this.hiddenSize = config.text_config?.hidden_size ?? 0;
    this.tokensPerFrame = (this.processor!.config as { image_seq_len?: number }).image_seq_len ?? TOKENS_PER_FRAME;
    this.visionShape = visionShapeOf(this.model.config);
    await this.vision.configure(opts.device, this.model.config);
    this.hookVisionEncoder(this.model);
    yieldAfterEachStep(this.model); // Stop is read between tokens on WASM too
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
    this.tokenizer = null;
    this.loaded = null;
    this.features.clear();
  }

  /**
   * transformers.js calls `model.encode_image` when a prompt holds image tokens not yet in the cache; this
   * lets a turn feed a picture's kept features instead, or keep what the encoder computed.
   */
  private hookVisionEncoder(model: PreTrainedModel): void {
    const m = model as unknown as { encode_image: EncodeImage };
    const encode = this.vision.wrap(m.encode_image.bind(m));
    m.encode_image = (inputs) => (this.visionHook ? this.visionHook(inputs, encode) : encode(inputs));
  }

  /** Drops one chat's KV cache, or every chat's cache and the image features kept in memory. */
  async resetCache(sessionId?: string): Promise<void> {
    if (sessionId !== undefined) return this.pool.drop(sessionId);
    this.features.clear();
    await this.pool.clear();
  }

  /** The memory the KV caches of recent chats may take; least recently used are evicted to fit. */
  setKvBudget(bytes: number): Promise<void> {
    return this.pool.setBudget(bytes);
  }

  /** What the caches hold now: chats, bytes, and the budget (for tests, stats and the storage panel). */
  get kvUsage(): { chats: number; bytes: number; budget: number } {
    return { chats: this.pool.size, bytes: this.pool.bytes, budget: this.pool.budget };
  }

  /** Tokens a chat's KV cache holds now (for tests and stats). */
  cachedTokensFor(sessionId: string): number {
    return this.pool.peek(sessionId)?.pastLength ?? 0;
  }

  /** The token ids of a chat's last prompt and its sampled answer, as the cache holds them (for tests). */
  cachedIdsFor(sessionId: string): readonly number[] {
    return this.pool.peek(sessionId)?.ids ?? [];
  }

  /** The canonical token ids of a conversation: what a fresh start feeds the model (tests compare with it). */
  async tokenize(input: GenerateInput): Promise<number[]> {
    return (await this.tokenizeTurn(input)).ids;
  }

  async generate(input: GenerateInput, opts: GenerateOptions = {}): Promise<GenerateOutput> {
    const { loaded } = this.requireLoaded();
    const t0 = performance.now();
    const modelKey = `${loaded.model}|${loaded.device}|${JSON.stringify(loaded.dtypes)}`;
    const sampled = input.continueAnswer && !opts.noCache ? await this.sampledContinuation(input, modelKey) : null;
    const turn = sampled ?? (await this.tokenizeTurn(input, !opts.noCache));
    this.checkLength(turn.ids);
    const own = opts.noCache ? null : this.pool.take(input.sessionId);
    const plan: ReusePlan = planReuse(own, modelKey, turn.ids, turn.image);
    const past = await cutPooledCache(own, plan.keepTokens);
    const kept = past ? plan.keepTokens : 0;
    // The vision encoder runs only for a picture the kept cache does not already hold.
    const needsImage = turn.image !== null && kept <= turn.image.at;
    if (needsImage && !turn.features && !turn.pixels) turn.pixels = await this.pixelsFor(input, past);
    const vision: VisionStep = !needsImage ? null : turn.features ? { features: turn.features } : { pixels: turn.pixels! };

    const pre = await this.prefillPicture(turn, past, kept, vision, input.settings, opts);
    const streamed = await this.stream(turn, pre.past, pre.vision, input.settings, opts);
    const sequence = Array.from(streamed.result.sequences.data as BigInt64Array, Number);
    const newIds = sequence.slice(turn.ids.length);
    const next = streamed.result.past_key_values;
    if (opts.noCache) await disposeCache(next);
    else await this.pool.put(input.sessionId, { modelKey, ids: sequence, pastLength: pastLengthOf(next), image: turn.image, past: next });

    const computed = pre.computed ?? streamed.computed;
    const features = computed ? this.keepFeatures(input, turn, computed) : undefined;
    const text = turn.answerFrom !== null ? this.answerText(sequence.slice(turn.answerFrom), null) : this.answerText(newIds, turn.answerSoFar);
    const stats = turnStats(this.requireLoaded().loaded, {
      t0, firstTokenAt: streamed.firstTokenAt, ids: turn.ids, imageTokenId: this.imageTokenId, tokens: newIds.length, cached: kept, vision,
      visionMs: this.vision.lastMs, ended: newIds.length > 0 && this.eosIds.has(newIds.at(-1)!),
    });
    if (streamed.interrupted || opts.signal?.aborted) {
      throw new GenerationAbortedError('Stopped.', { partial: text || streamed.partial, stats, ...(features ? { features } : {}) });
    }
    return { text, stats, ...(features ? { features } : {}) };
  }

  private requireLoaded() {
    if (!this.processor || !this.model || !this.loaded || !this.tokenizer) throw new EngineError('No model is loaded.');
    return { processor: this.processor, model: this.model, loaded: this.loaded, tokenizer: this.tokenizer };
  }

  /**
   * Renders the chat template and tokenizes it canonically. The picture's expansion (its tile grid) comes
   * from the cache when the same picture is there, otherwise from preparing it.
   */
  private async tokenizeTurn(input: GenerateInput, remembered = true): Promise<TurnPrompt> {
    const { tokenizer, processor } = this.requireLoaded();
    const { rendered, answerSoFar } = renderTurn(input, (messages, generationPrompt) =>
      processor.apply_chat_template(messages as never, { add_generation_prompt: generationPrompt, tokenize: false }) as unknown as string);
    if (!input.image) {
      const { ids } = encodePrompt(tokenizer, rendered);
      if (ids.includes(this.imageTokenId)) throw new EngineError('A message carries an image part but no image was given.');
      return { ids, image: null, pixels: null, features: null, featureKey: null, answerSoFar, answerFrom: null };
    }
    const { loaded } = this.requireLoaded();
    const key = pictureKey(input);
    const fKey = featureKey(loaded.model, loaded.dtypes.vision_encoder, input.settings.imageDetail, this.vision.frames);
    const features = this.knownFeatures(input, fKey, remembered);
    const cached = this.pool.peek(input.sessionId)?.image;
    let pixels: ImageInputs | null = null;
    let expansion = cached?.key === key ? cached.expansion : null;
    if (expansion === null && features) expansion = imagePromptString(features.rows, features.cols, this.tokensPerFrame);
    if (expansion === null) {
      pixels = await this.preparePicture(input);
      const { rows, cols } = gridOf(pixels);
      expansion = imagePromptString(rows, cols, this.tokensPerFrame);
    }
    const { ids, imageAt } = encodePrompt(tokenizer, rendered, { placeholder: IMAGE_PLACEHOLDER, expansion });
    if (imageAt < 0) throw new EngineError('An image was given but no message carries an image part.');
    return { ids, image: { key, at: imageAt, expansion }, pixels, features, featureKey: fKey, answerSoFar, answerFrom: null };
  }

  /**
   * Continue right after the cut: the turn that feeds the answer's tokens as sampled, when the chat's cache
   * holds them (continuation.ts); null otherwise, and the canonical open prompt is tokenized instead.
   */
  private async sampledContinuation(input: GenerateInput, modelKey: string): Promise<TurnPrompt | null> {
    const cached = this.pool.peek(input.sessionId);
    // Only a cache of these weights holding this very picture: else its frames would be read here for nothing.
    if (!cached || cached.modelKey !== modelKey || (input.image && cached.image?.key !== pictureKey(input))) return null;
    const head = await this.tokenizeTurn({ ...input, messages: input.messages.slice(0, -1), continueAnswer: false });
    const from = sampledAnswerStart(cached.ids, head.ids, input.messages, (ids) => this.answerText(ids, null));
    return from === null ? null : { ...head, ids: [...cached.ids], answerFrom: from };
  }

  /** The picture's features for this encoder from memory or from the caller, if they fit exactly. */
  private knownFeatures(input: GenerateInput, key: string, useMemory: boolean): ImageFeatures | null {
    const hash = input.image!.hash;
    const remembered = useMemory ? this.features.get(hash, key) : null;
    if (remembered) return remembered;
    const given = input.features?.find((f) => isUsable(f, key, this.tokensPerFrame, this.hiddenSize));
    if (given) this.features.put(hash, given);
    return given ?? null;
  }

  /** Remembers what the vision encoder computed and hands it to the caller to keep with the picture. */
  private keepFeatures(input: GenerateInput, turn: TurnPrompt, computed: Tensor): ImageFeatures {
    const { rows, cols } = gridOf(turn.pixels!);
    const data = computed.data instanceof Float32Array ? computed.data : Float32Array.from(computed.data as ArrayLike<number>);
    const f: ImageFeatures = { key: turn.featureKey!, rows, cols, dims: [...computed.dims], data };
    this.features.put(input.image!.hash, f);
    return f;
  }

  /** Frames of the turn's picture, prepared late (the cache was cut before it); the cache is freed on failure. */
  private async pixelsFor(input: GenerateInput, past: KvCache | null): Promise<ImageInputs> {
    try {
      return await this.preparePicture(input);
    } catch (err) {
      await disposeCache(past);
      throw err;
    }
  }

  /** The turn's picture cut into frames, once it is known to fit in the memory left (refused before decoding). */
  private async preparePicture(input: GenerateInput): Promise<ImageInputs> {
    const { blob } = input.image!;
    const detail = input.settings.imageDetail;
    await checkPictureFits(blob, detail, this.visionShape, this.memoryRoom(), this.vision.frames);
    return prepareImage(this.requireLoaded().processor, blob, detail);
  }

  private checkLength(ids: number[]): void {
    if (ids.length < this.maxPositions) return;
    throw new PromptTooLongError(
      `This conversation is ${ids.length} tokens, more than the model can read (${this.maxPositions}). ` +
        'Start a new chat, lower the context window or use a lower image detail.',
      { tokens: ids.length, max: this.maxPositions },
    );
  }

  /**
   * A long prompt with a picture to read: the vision encoder first, then the prompt in chunks up to the last
   * one, which the answer's own call reads (bounded memory, see prefill.ts). Otherwise nothing changes.
   */
  private async prefillPicture(turn: TurnPrompt, past: KvCache | null, kept: number, vision: VisionStep, s: GenerationSettings, opts: GenerateOptions) {
    const chunks = vision ? prefillChunks(turn.ids, kept, this.imageTokenId, this.prefillChunk) : [];
    if (!vision || chunks.length === 0) return { past, vision, computed: null };
    let computed: Tensor | null = null;
    try {
      if ('pixels' in vision) computed = await this.encodePicture(vision.pixels, opts);
    } catch (err) {
      await disposeCache(past);
      throw classifyEngineError(err, { model: this.requireLoaded().loaded.model, phase: 'generate' });
    }
    const features = computed ? { key: '', rows: 0, cols: 0, dims: [...computed.dims], data: tensorData(computed) } : (vision as { features: ImageFeatures }).features;
    const one: GenerationSettings = { ...s, maxNewTokens: 1, temperature: 0 };
    const run = (ids: number[], p: KvCache | null, v: VisionStep) => this.stream({ ...turn, ids }, p, v, one, { signal: opts.signal });
    return { past: await prefill(turn.ids, past, features, chunks, run, opts.signal), vision: restOf(features, chunks), computed };
  }

  /** The picture's frames through the (batched) vision encoder, reporting each frame. */
  private async encodePicture(pixels: ImageInputs, opts: GenerateOptions): Promise<Tensor> {
    const m = this.requireLoaded().model as unknown as { encode_image: EncodeImage };
    this.vision.listen(opts.onVision ?? null);
    try {
      return await m.encode_image({ pixel_values: pixels.pixel_values, pixel_attention_mask: pixels.pixel_attention_mask });
    } finally {
      this.vision.listen(null);
    }
  }

  private async stream(turn: TurnPrompt, past: KvCache | null, vision: VisionStep, s: GenerationSettings, opts: GenerateOptions): Promise<Streamed> {
    const { processor, model, loaded } = this.requireLoaded();
    this.vision.listen(opts.onVision ?? null);
    try {
      return await runGenerate(model, processor.tokenizer!, {
        ids: turn.ids, past, vision, settings: s, maxPositions: this.maxPositions, signal: opts.signal, onToken: opts.onToken,
        setVisionHook: (hook) => (this.visionHook = hook),
      });
    } catch (err) {
      await disposeCache(past);
      throw classifyEngineError(err, { model: loaded.model, phase: 'generate' });
    } finally {
      this.vision.listen(null);
    }
  }

  /**
   * The answer as stored. The template writes "Assistant: " + text, so the leading space the model emits
   * after "Assistant:" belongs to the template, not to the answer. A continued answer is the text so far and
   * what the new tokens add to it (byte-level BPE: decoding in two parts equals decoding the whole).
   */
  private answerText(newIds: number[], soFar: string | null): string {
    const tokenizer = this.requireLoaded().processor.tokenizer!;
    const added = newIds.length ? tokenizer.decode(newIds, { skip_special_tokens: true }) : '';
    return soFar === null ? added.replace(/^ /, '') : soFar + added;
  }
}
