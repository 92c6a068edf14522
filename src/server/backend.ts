/**
 * The local SmolVLM as a chat backend in Node: the service's requests go straight to a VlmEngine on
 * onnxruntime-node (device 'cpu'; the files GLIMPSE_DTYPE picks, src/server/dtypes.ts), no worker. The model
 * loads on the first request (or on preload()), and the engine keeps the KV cache between turns exactly as it
 * does in the browser's worker.
 * Not re-entrant: the server runs one generation at a time through a GenerationQueue.
 */
import type { BackendRequest, BackendResult, ChatBackend } from '../chat/backend';
import { EngineError, GlimpseError, isError, ModelFilesMissingError, ModelHostUnreachableError, UnknownModelError } from '../errors';
import { answerWithEngine } from '../engine/backend';
import { chooseDtypes } from '../engine/device';
import { VlmEngine, type LoadOptions } from '../engine/engine';
import type { DtypeMap, LoadProgress, ModelSource } from '../engine/protocol';

export interface NodeBackendOptions {
  model: string;
  source: ModelSource;
  dtypes?: DtypeMap;
  engine?: VlmEngine;
  onProgress?: (p: LoadProgress) => void;
  /** ONNX Runtime session options (the server turns the CPU memory arena off, see config.ts ortArena). */
  sessionOptions?: LoadOptions['sessionOptions'];
}

export type ModelState = 'idle' | 'loading' | 'ready' | 'error';

export class NodeBackend implements ChatBackend {
  readonly id = 'local-node';
  readonly acceptsImages = true;
  readonly continues = true;
  readonly engine: VlmEngine;
  private loading: Promise<void> | null = null;
  private active = false;
  private lastError: string | null = null;
  private readonly dtypes: DtypeMap;

  constructor(private readonly opts: NodeBackendOptions) {
    this.engine = opts.engine ?? new VlmEngine();
    this.dtypes = opts.dtypes ?? chooseDtypes({ device: 'cpu', shaderF16: false });
  }

  get model(): string {
    return this.opts.model;
  }

  get state(): ModelState {
    if (this.engine.current) return 'ready';
    if (this.loading) return 'loading';
    return this.lastError ? 'error' : 'idle';
  }

  /** The last load failure, for /health. */
  get error(): string | null {
    return this.lastError;
  }

  /** Loads the model once; concurrent callers share the load, a failed load is retried by the next call. */
  preload(): Promise<void> {
    this.loading ??= this.engine
      .load({
        model: this.opts.model,
        device: 'cpu',
        dtypes: this.dtypes,
        source: this.opts.source,
        onProgress: this.opts.onProgress,
        ...(this.opts.sessionOptions ? { sessionOptions: this.opts.sessionOptions } : {}),
      })
      .then(() => {
        this.lastError = null;
      })
      .catch((err: unknown) => {
        const explained = explainLoadError(err, this.opts.model, this.opts.source);
        this.lastError = explained instanceof Error ? explained.message : String(explained);
        throw explained;
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  /** Loads the model before a turn stores anything: a model that cannot be fetched refuses the turn, leaving nothing. */
  async prepare(): Promise<void> {
    if (!this.engine.current) await this.preload();
  }

  async generate(req: BackendRequest): Promise<BackendResult> {
    if (this.active) throw new EngineError('The engine is already generating; requests must go through the queue.');
    this.active = true;
    try {
      if (!this.engine.current) await this.preload();
      return await answerWithEngine((input, opts) => this.engine.generate(input, opts), req, this.opts.model);
    } finally {
      this.active = false;
    }
  }

  async close(): Promise<void> {
    await this.loading?.catch(() => undefined);
    await this.engine.unload();
  }
}

/**
 * The engine's load errors speak to a page's user ("Check your connection"); a server's operator needs the host
 * the files come from and the settings that change it (GLIMPSE_MODEL_HOST, MODEL_PATH).
 */
export function explainLoadError(err: unknown, model: string, source: ModelSource): unknown {
  if (!(err instanceof GlimpseError) || !(isError(err, ModelFilesMissingError) || isError(err, UnknownModelError))) return err;
  if (source.kind === 'local') {
    return new ModelFilesMissingError(`${err.message} (from MODEL_PATH=${source.localModelPath})`, err.data);
  }
  const host = new URL(source.remoteHost ?? 'https://huggingface.co/').host;
  const instead = 'set MODEL_PATH to a folder holding its files (laid out as {owner}/{name}/, see docs/rest-api.md), ' +
    'or GLIMPSE_MODEL_HOST to a mirror. Nothing was stored; send the request again once the model can load.';
  if (err.data.network === 'unreachable') {
    return new ModelHostUnreachableError(`The model “${model}” is downloaded from ${host}, which does not answer: ${instead}`,
      { ...err.data, host });
  }
  const what = isError(err, UnknownModelError) ? 'does not have' : 'could not send all the files of';
  return new (isError(err, UnknownModelError) ? UnknownModelError : ModelFilesMissingError)(
    `${host} ${what} the model “${model}” (${err.message}): ${instead}`, { ...err.data, host });
}
