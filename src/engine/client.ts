import {
  DeviceLostError,
  GlimpseError,
  ModelFilesMissingError,
  ModelHostUnreachableError,
  OutOfMemoryError,
  UnknownModelError,
  WorkerCrashedError,
  asGlimpseError,
  isError,
  serializeError,
} from '../errors';
import type { EngineController, EngineNotice, EngineSettings } from './api';
import { DEFAULT_MEMORY_POLICY, MemoryWatch, crashError, type EngineMemory, type MemoryPolicy } from './memory-watch';
import { isModelCached } from './model-files';
import { WorkerChannel } from './channel';
import { chooseDevice, chooseDtypes } from './device';
import { DEFAULT_MODEL_ID } from './models';
import { resolveModelSource } from './source';
import { createStopFlag, raiseStopFlag } from './yield';
import type {
  Device,
  DeviceChoice,
  DevicePreference,
  EngineStatus,
  GenerateInput,
  GenerateOutput,
  GenerationStage,
  KvUsage,
  ModelSource,
  VisionProgress,
} from './protocol';

export interface EngineClientOptions {
  /** Where model files come from (default: the build's VITE_MODEL_HOST, else the Hugging Face hub). */
  source?: ModelSource;
  model?: string;
  /** Skip the probe (tests of one device path). Wins over `prefer`. */
  forceDevice?: Device;
  /** Settings → Device (default Auto: WebGPU on a hardware adapter, else WebAssembly). */
  prefer?: DevicePreference;
  /** Memory for the KV caches of recent chats (default: the engine's own, 512 MB). */
  kvBudgetBytes?: number;
  /** When the worker's memory is given back (default: ×2 its size at rest, at least 256 MiB over; memory-watch.ts). */
  memory?: Partial<MemoryPolicy>;
  createWorker?: () => Worker;
  /** ONNX Runtime's WebAssembly threads when the page is cross-origin isolated (default: src/engine/threads.ts). */
  wasmThreads?: number;
}

const defaultWorker = () => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'glimpse-engine' });

/**
 * The page side of the engine: owns the worker, matches responses to requests by id, and keeps the user
 * informed. A worker that dies, or a GPU device that is lost, is replaced by a fresh worker (one ONNX
 * Runtime failure poisons a worker for good, see ../shared/FACTS.md), and WebGPU failures fall back to WASM.
 */
export class EngineClient extends EventTarget implements EngineController {
  private readonly channel: WorkerChannel;
  private source: ModelSource;
  private readonly forceDevice?: Device;
  private readonly wasmThreads?: number;
  private prefer: DevicePreference;
  private kvBudgetBytes: number | null;
  private choice: DeviceChoice | null = null;
  private probing: Promise<DeviceChoice> | null = null;
  private loadedKey: string | null = null;
  private loading: Promise<void> | null = null;
  private _status: EngineStatus = { state: 'idle' };
  private _model: string;
  private gpuFailures = 0;
  /** Bumped when the device preference changes, so a probe under way for the old one is not kept. */
  private epoch = 0;
  /** Since the worker loaded: whether an answer ran (the first one on WebGPU compiles shaders), and the pictures it read. */
  private warm = false;
  private readonly seenImages = new Set<string>();
  /** Whether a model's files for this device are already downloaded, by model and device path. */
  private readonly downloaded = new Map<string, Promise<boolean>>();
  private readonly watch: MemoryWatch;

  constructor(options: EngineClientOptions = {}) {
    super();
    this.source = options.source ?? resolveModelSource(null);
    this._model = options.model ?? DEFAULT_MODEL_ID;
    this.forceDevice = options.forceDevice;
    this.wasmThreads = options.wasmThreads;
    this.prefer = options.prefer ?? 'auto';
    this.kvBudgetBytes = options.kvBudgetBytes ?? null;
    this.channel = new WorkerChannel(options.createWorker ?? defaultWorker, (message) => this.crashed(message));
    const changed = (m: EngineMemory) => this.dispatchEvent(new CustomEvent<EngineMemory>('memory', { detail: m }));
    this.watch = new MemoryWatch(this.channel, { ...DEFAULT_MEMORY_POLICY, ...options.memory }, changed);
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
  /** The model worker's memory: now, at rest, and how often it was given back (null before a load). */
  get memory(): EngineMemory | null {
    return this.watch.state;
  }

  /** Several elements ask at start-up: one probe (one adapter request, one fallback notice) answers them all. */
  probe(): Promise<DeviceChoice> {
    if (this.choice) return Promise.resolve(this.choice);
    this.probing ??= this.doProbe().finally(() => (this.probing = null));
    return this.probing;
  }

  /** The device choice says why it was made; the status line shows it (no separate notice). */
  private async doProbe(): Promise<DeviceChoice> {
    const epoch = this.epoch;
    const choice: DeviceChoice = this.forceDevice
      ? {
          device: this.forceDevice,
          fallback: false,
          shaderF16: false,
          cause: 'chosen',
          reason: this.forceDevice === 'webgpu' ? 'Running on WebGPU.' : 'Running on WebAssembly, as chosen in the settings.',
        }
      : await chooseDevice(undefined, { prefer: this.prefer });
    // The preference changed while probing: this answer is stale, probe again for the new one.
    if (epoch !== this.epoch) return this.doProbe();
    this.choice = choice;
    return choice;
  }

  /**
   * Applies Settings → Device and the memory for recent chats. Another device restarts the worker: the
   * model reloads there on next use (the status goes back to idle, saying where it will run). The memory
   * budget reaches a loaded worker at once, and every later load.
   */
  async configure(settings: Partial<EngineSettings>): Promise<void> {
    if (settings.device && settings.device !== this.prefer) {
      this.prefer = settings.device;
      if (!this.forceDevice) {
        this.restartWorker();
        this.choice = null;
        this.epoch += 1;
        this.gpuFailures = 0;
        this.setStatus({ state: 'idle' });
      }
    }
    if (settings.source && JSON.stringify(settings.source) !== JSON.stringify(this.source)) {
      // Another model host: the next load downloads from it (each load request carries its source), what is
      // cached is asked again, and a failure from the old host is no longer what happens next.
      this.source = settings.source;
      this.downloaded.clear();
      this.setStatus(this._status.state === 'error' ? { state: 'idle' } : this._status);
    }
    if (settings.kvBudgetBytes !== undefined && settings.kvBudgetBytes !== this.kvBudgetBytes) {
      await this.setKvBudget(settings.kvBudgetBytes);
    }
  }

  /** Sets the KV-cache memory budget; resolves with the worker's usage, or null when no model is loaded yet. */
  async setKvBudget(bytes: number): Promise<KvUsage | null> {
    this.kvBudgetBytes = bytes;
    if (!this.channel.running || !this.loadedKey) return null;
    return (await this.channel.request('configure', { kvBudgetBytes: bytes })).kvUsage;
  }

  /** Whether `model`'s files for this device are in the browser's cache (it would load with no download). */
  async isDownloaded(model: string = this._model): Promise<boolean> {
    const choice = await this.probe();
    const key = `${model}|${choice.device}|${choice.shaderF16}`;
    let known = this.downloaded.get(key);
    if (!known) {
      known = isModelCached(model, this.source, choice);
      this.downloaded.set(key, known);
    }
    return known;
  }

  /** Forget what is known to be downloaded (a model was deleted or imported). */
  forgetDownloads(): void {
    this.downloaded.clear();
    this.setStatus(this._status);
  }

  async load(model: string = this._model): Promise<void> {
    this._model = model;
    const choice = await this.probe();
    const key = `${model}|${choice.device}`;
    if (this.loadedKey === key && this.channel.running) return;
    if (this.loading) {
      await this.loading.catch(() => undefined);
      if (this.loadedKey === `${this._model}|${this.choice?.device}` && this.channel.running) return;
    }
    this.loading = this.doLoad(model).finally(() => (this.loading = null));
    return this.loading;
  }

  private async doLoad(model: string): Promise<void> {
    const choice = this.choice!;
    this.setStatus({ state: 'loading', model, progress: null });
    try {
      await this.channel.request(
        'load',
        { model, device: choice.device, dtypes: chooseDtypes(choice), source: this.source, ...(this.wasmThreads ? { threads: this.wasmThreads } : {}) },
        { progress: ({ progress }) => this.setStatus({ state: 'loading', model, progress }) },
      );
      this.loadedKey = `${model}|${choice.device}`;
      this.downloaded.set(`${model}|${choice.device}|${choice.shaderF16}`, Promise.resolve(true));
      if (this.kvBudgetBytes !== null) await this.channel.request('configure', { kvBudgetBytes: this.kvBudgetBytes });
      await this.watch.loaded();
      this.setStatus({ state: 'ready', model });
    } catch (err) {
      const e = this.explainLoadError(asGlimpseError(err));
      const fileProblem = isError(e, ModelFilesMissingError) || isError(e, UnknownModelError) || isError(e, ModelHostUnreachableError);
      if (choice.device === 'webgpu' && !fileProblem) {
        // WebGPU could not run this model here: a fresh worker on WASM usually can.
        this.restartWorker();
        this.choice = {
          device: 'wasm',
          fallback: true,
          shaderF16: false,
          cause: 'gpu-failed',
          reason: `WebGPU failed to start the model (${e.message}), so Glimpse runs on WebAssembly. Answers will be slower.`,
        };
        return this.doLoad(model);
      }
      this.restartWorker();
      this.setStatus({ state: 'error', model, error: serializeError(e) });
      throw e;
    }
  }

  /**
   * A request that could not connect at all (`data.network` is `unreachable`: "Failed to fetch", Firefox's
   * "NetworkError…", Safari's "Load failed", see error-facts.ts) means the host cannot be reached: say which.
   * A download cut half-way (`interrupted`) reached it, and stays "files missing" (retry keeps what arrived).
   */
  private explainLoadError(e: GlimpseError): GlimpseError {
    if (!isError(e, ModelFilesMissingError) || this.source.kind !== 'hub') return e;
    const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
    if (!offline && e.data.network !== 'unreachable') return e;
    const host = new URL(this.source.remoteHost ?? 'https://huggingface.co/').host;
    return new ModelHostUnreachableError(
      `${host} does not answer: ${offline ? 'this device is offline' : 'this device is offline, or the site is blocked here'}. ` +
        'The model’s files come from there; files already downloaded are kept.',
      { ...e.data, host, offline },
    );
  }

  /** Generates one answer; tokens stream through `onToken`. Aborting the signal stops it (partial kept). */
  async generate(
    input: GenerateInput,
    opts: { onToken?: (text: string, tokens: number) => void; signal?: AbortSignal } = {},
  ): Promise<GenerateOutput> {
    await this.load(input.settings.model || this._model);
    // Memory given back after the last turn replaced the worker while this one waited: it reloads first.
    while (!this.loadedKey) await this.load(input.settings.model || this._model);
    this.setStatus({ state: 'generating', model: this._model, stage: this.firstStage(input) });
    let id = 0;
    let writing = false;
    const onToken = (text: string, tokens: number) => {
      if (!writing) {
        writing = true;
        this.setStatus({ state: 'generating', model: this._model, stage: 'writing' });
      }
      opts.onToken?.(text, tokens);
    };
    const stop = createStopFlag();
    const onAbort = () => {
      if (stop) raiseStopFlag(stop);
      if (id) this.channel.notify('abort', { target: id });
    };
    opts.signal?.addEventListener('abort', onAbort);
    try {
      const token = ({ text, tokens }: { text: string; tokens: number }) => onToken(text, tokens);
      // The vision encoder reads the picture frame by frame: "Reading the image · frame 5 of 13".
      const vision = ({ frame, frames }: VisionProgress) => {
        if (!writing) this.setStatus({ state: 'generating', model: this._model, stage: 'image', vision: { frame, frames } });
      };
      const out = await this.channel.request('generate', { input, ...(stop ? { stop } : {}) }, { token, vision }, (assigned) => {
        id = assigned;
        if (opts.signal?.aborted) onAbort();
      });
      this.warm = true;
      if (input.image) this.seenImages.add(input.image.hash);
      return out;
    } catch (err) {
      // A worker out of memory is poisoned like a crashed one (one ONNX Runtime failure fails every later call).
      if (isError(err, DeviceLostError) || isError(err, WorkerCrashedError) || isError(err, OutOfMemoryError)) this.recover(asGlimpseError(err));
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (this._status.state === 'generating') this.setStatus({ state: 'ready', model: this._model });
      if (this.loadedKey) void this.giveBackIfLarge();
    }
  }

  /** After a turn: a worker far above its size at rest is replaced now, between turns, and the model reloads. */
  private async giveBackIfLarge(): Promise<void> {
    const report = await this.watch.shouldGiveBack();
    if (!report || !this.loadedKey || this.loading) return;
    const model = this._model;
    this.restartWorker();
    this.watch.gaveBack(report.wasmBytes);
    this.notice({
      level: 'info',
      message: `The model held ${Math.round(report.wasmBytes / 2 ** 20)} MiB after that answer (${Math.round(report.steadyBytes / 2 ** 20)} MiB at rest): ` +
        'Glimpse gave that memory back and reloads the model from this device. Your chats are kept.',
    });
    await this.load(model).catch(() => undefined); // a failure is shown by the status, and the next turn retries
  }

  /** What the answer waits for first: the GPU's one-time warm-up, a picture not read yet, or the conversation. */
  private firstStage(input: GenerateInput): GenerationStage {
    if (this.choice?.device === 'webgpu' && !this.warm) return 'warmup';
    return input.image && !this.seenImages.has(input.image.hash) ? 'image' : 'prompt';
  }

  /** Drops the engine's KV cache (e.g. after the user cleared a chat). */
  async reset(): Promise<void> {
    if (this.channel.running) await this.channel.request('reset', {});
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
        cause: 'gpu-lost',
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
    this.loadedKey = null;
    this.forgetWorkerState();
    this.channel.stop(new WorkerCrashedError('The model stopped (its worker was restarted). Send your message again.'));
  }

  private forgetWorkerState(): void {
    this.warm = false;
    this.seenImages.clear();
  }

  private crashed(detail: string): void {
    this.loadedKey = null;
    this.forgetWorkerState();
    const err = crashError(detail);
    this.channel.stop(err);
    this.notice({ level: 'error', message: err.message });
    this.setStatus({ state: 'restarting', reason: err.message });
  }

  private setStatus(status: EngineStatus): void {
    this._status = status;
    this.dispatchEvent(new CustomEvent<EngineStatus>('status', { detail: status }));
  }

  private notice(n: EngineNotice): void {
    this.dispatchEvent(new CustomEvent<EngineNotice>('notice', { detail: n }));
  }
}
