import {
  DeviceLostError,
  GlimpseError,
  ModelFilesMissingError,
  UnknownModelError,
  WorkerCrashedError,
  deserializeError,
  isError,
} from '../errors';
import type { EngineController, EngineNotice } from './api';
import { chooseDevice, chooseDtypes } from './device';
import { DEFAULT_MODEL_ID } from './models';
import { resolveModelSource } from './source';
import type {
  Device,
  DeviceChoice,
  DoneResults,
  EngineRequest,
  EngineResponse,
  EngineStatus,
  GenerateInput,
  GenerateOutput,
  LoadProgress,
  ModelSource,
} from './protocol';

type RequestBody = EngineRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve(value: unknown): void;
  reject(err: GlimpseError): void;
  onProgress?: (p: LoadProgress) => void;
  onToken?: (text: string, tokens: number) => void;
}

export interface EngineClientOptions {
  /** Where model files come from (default: the build's VITE_MODEL_HOST, else the Hugging Face hub). */
  source?: ModelSource;
  model?: string;
  /** Skip the probe (tests of the fallback path, or a user who wants WASM). */
  forceDevice?: Device;
  createWorker?: () => Worker;
}

const defaultWorker = () => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'glimpse-engine' });

/**
 * The page side of the engine: owns the worker, matches responses to requests by id, and keeps the user
 * informed. A worker that dies, or a GPU device that is lost, is replaced by a fresh worker (one ONNX
 * Runtime failure poisons a worker for good, see ../shared/FACTS.md), and WebGPU failures fall back to WASM.
 */
export class EngineClient extends EventTarget implements EngineController {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly source: ModelSource;
  private readonly createWorker: () => Worker;
  private readonly forceDevice?: Device;
  private choice: DeviceChoice | null = null;
  private probing: Promise<DeviceChoice> | null = null;
  private loadedKey: string | null = null;
  private loading: Promise<void> | null = null;
  private _status: EngineStatus = { state: 'idle' };
  private _model: string;
  private gpuFailures = 0;

  constructor(options: EngineClientOptions = {}) {
    super();
    this.source = options.source ?? resolveModelSource(null);
    this._model = options.model ?? DEFAULT_MODEL_ID;
    this.forceDevice = options.forceDevice;
    this.createWorker = options.createWorker ?? defaultWorker;
  }

  get status(): EngineStatus {
    return this._status;
  }
  get device(): DeviceChoice | null {
    return this.choice;
  }
  get model(): string {
    return this._model;
  }

  /** Several elements ask at start-up: one probe (one adapter request, one fallback notice) answers them all. */
  probe(): Promise<DeviceChoice> {
    if (this.choice) return Promise.resolve(this.choice);
    this.probing ??= this.doProbe().finally(() => (this.probing = null));
    return this.probing;
  }

  private async doProbe(): Promise<DeviceChoice> {
    if (this.forceDevice) {
      this.choice = {
        device: this.forceDevice,
        fallback: this.forceDevice !== 'webgpu',
        shaderF16: false,
        reason: this.forceDevice === 'webgpu' ? 'Running on WebGPU.' : 'Running on WebAssembly, as chosen in the settings.',
      };
    } else {
      this.choice = await chooseDevice();
    }
    if (this.choice.fallback) this.notice({ level: 'warning', message: this.choice.reason });
    return this.choice;
  }

  async load(model: string = this._model): Promise<void> {
    this._model = model;
    const choice = await this.probe();
    const key = `${model}|${choice.device}`;
    if (this.loadedKey === key && this.worker) return;
    if (this.loading) {
      await this.loading.catch(() => undefined);
      if (this.loadedKey === `${this._model}|${this.choice?.device}` && this.worker) return;
    }
    this.loading = this.doLoad(model).finally(() => (this.loading = null));
    return this.loading;
  }

  private async doLoad(model: string): Promise<void> {
    const choice = this.choice!;
    this.setStatus({ state: 'loading', model, progress: null });
    try {
      await this.request<'load'>(
        { type: 'load', model, device: choice.device, dtypes: chooseDtypes(choice), source: this.source },
        { onProgress: (progress) => this.setStatus({ state: 'loading', model, progress }) },
      );
      this.loadedKey = `${model}|${choice.device}`;
      this.setStatus({ state: 'ready', model });
    } catch (err) {
      const e = err as GlimpseError;
      const fileProblem = isError(e, ModelFilesMissingError) || isError(e, UnknownModelError);
      if (choice.device === 'webgpu' && !fileProblem) {
        // WebGPU could not run this model here: a fresh worker on WASM usually can.
        this.restartWorker();
        this.choice = {
          device: 'wasm',
          fallback: true,
          shaderF16: false,
          reason: `WebGPU failed to start the model (${e.message}), so Glimpse runs on WebAssembly. Answers will be slower.`,
        };
        this.notice({ level: 'warning', message: this.choice.reason });
        return this.doLoad(model);
      }
      this.restartWorker();
      this.setStatus({ state: 'error', model, error: { name: e.name, message: e.message } });
      throw e;
    }
  }

  /** Generates one answer; tokens stream through `onToken`. Aborting the signal stops it (partial kept). */
  async generate(
    input: GenerateInput,
    opts: { onToken?: (text: string, tokens: number) => void; signal?: AbortSignal } = {},
  ): Promise<GenerateOutput> {
    await this.load(input.settings.model || this._model);
    this.setStatus({ state: 'generating', model: this._model });
    let id = 0;
    const onAbort = () => {
      if (id) this.post({ id: this.nextId++, type: 'abort', target: id });
    };
    opts.signal?.addEventListener('abort', onAbort);
    try {
      return await this.request<'generate'>({ type: 'generate', input }, { onToken: opts.onToken }, (assigned) => {
        id = assigned;
        if (opts.signal?.aborted) onAbort();
      });
    } catch (err) {
      if (isError(err, DeviceLostError) || isError(err, WorkerCrashedError)) this.recover(err as GlimpseError);
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (this._status.state === 'generating') this.setStatus({ state: 'ready', model: this._model });
    }
  }

  /** Drops the engine's KV cache (e.g. after the user cleared a chat). */
  async reset(): Promise<void> {
    if (this.worker) await this.request<'reset'>({ type: 'reset' });
  }

  dispose(): void {
    this.restartWorker();
  }

  private recover(err: GlimpseError): void {
    this.restartWorker();
    if (this.choice?.device === 'webgpu' && isError(err, DeviceLostError) && ++this.gpuFailures >= 2) {
      this.choice = {
        device: 'wasm',
        fallback: true,
        shaderF16: false,
        reason: 'The graphics device was lost twice, so Glimpse now runs on WebAssembly (slower but steadier).',
      };
    }
    this.notice({
      level: 'warning',
      message: `${err.message} The model will reload on ${this.choice?.device === 'webgpu' ? 'WebGPU' : 'WebAssembly'} for your next message.`,
    });
    this.setStatus({ state: 'restarting', reason: err.message });
  }

  private restartWorker(): void {
    this.worker?.terminate();
    this.worker = null;
    this.loadedKey = null;
    const crashed = new WorkerCrashedError('The model stopped (its worker was restarted). Send your message again.');
    for (const p of this.pending.values()) p.reject(crashed);
    this.pending.clear();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = this.createWorker();
    w.onmessage = (e: MessageEvent<EngineResponse>) => this.receive(e.data);
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.crashed(`The model's worker crashed: ${e.message || 'unknown error'}.`);
    };
    w.onmessageerror = () => this.crashed('The model sent a message the page could not read.');
    this.worker = w;
    return w;
  }

  private crashed(message: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.worker?.terminate();
    this.worker = null;
    this.loadedKey = null;
    const err = new WorkerCrashedError(`${message} It will restart for your next message.`);
    for (const p of pending) p.reject(err);
    this.notice({ level: 'error', message: err.message });
    this.setStatus({ state: 'restarting', reason: message });
  }

  private post(req: EngineRequest): void {
    this.ensureWorker().postMessage(req);
  }

  private request<K extends keyof DoneResults>(
    body: RequestBody,
    hooks: Pick<Pending, 'onProgress' | 'onToken'> = {},
    onId?: (id: number) => void,
  ): Promise<DoneResults[K]> {
    const id = this.nextId++;
    return new Promise<DoneResults[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...hooks });
      this.post({ ...body, id } as EngineRequest);
      onId?.(id);
    });
  }

  private receive(msg: EngineResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    switch (msg.type) {
      case 'progress':
        p.onProgress?.(msg.progress);
        break;
      case 'token':
        p.onToken?.(msg.text, msg.tokens);
        break;
      case 'done':
        this.pending.delete(msg.id);
        p.resolve(msg.result);
        break;
      case 'error':
        this.pending.delete(msg.id);
        p.reject(deserializeError(msg.error));
        break;
    }
  }

  private setStatus(status: EngineStatus): void {
    this._status = status;
    this.dispatchEvent(new CustomEvent<EngineStatus>('status', { detail: status }));
  }

  private notice(n: EngineNotice): void {
    this.dispatchEvent(new CustomEvent<EngineNotice>('notice', { detail: n }));
  }
}
