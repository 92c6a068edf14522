/**
 * A stand-in for the local engine, for UI tests, screenshots and working on the UI without a model:
 * it simulates the first-visit download (per-file progress) and streams a canned markdown answer token by
 * token, honouring Stop. Selected by `?fake-engine` in the URL (src/main.ts); options:
 *   ?fake-engine=wasm       pretend WebGPU is unavailable (the WASM fallback and its reason)
 *   ?fake-engine=no-f16     WebGPU without shader-f16 (the fp32 download)
 *   ?fake-engine=software   only a software WebGPU adapter (SwiftShader): Auto picks WASM, GPU in Settings picks it
 *   &fake-cached            the model is already downloaded (a return visit)
 *   &fake-offline           the model host cannot be reached (every load fails, as offline)
 *   &fake-download-ms=1500  how long the download takes
 *   &fake-token-ms=30       delay between tokens
 */
import type { BackendRequest, BackendResult, ChatBackend, ImageDetail } from '../../chat/backend';
import { hasImagePart, textOf } from '../../chat/messages';
import type { EngineController, EngineNotice, EngineSettings } from '../../engine/api';
import type { EngineMemory } from '../../engine/memory-watch';
import { chooseDevice, chooseDtypes } from '../../engine/device';
import { downloadSize } from '../../engine/downloads';
import { planImage } from '../../engine/image';
import { DEFAULT_MODEL_ID } from '../../engine/models';
import type { DeviceChoice, DevicePreference, EngineStatus, FileProgress, GenerationStage, ModelSource, VisionProgress } from '../../engine/protocol';
import { GenerationAbortedError, GlimpseError, ModelHostUnreachableError, ModelLoadError, serializeError } from '../../errors';

export interface FakeEngineOptions {
  /** The simulated browser: a GPU adapter, none (`wasm`), or only a software adapter (`software`). */
  device?: 'webgpu' | 'wasm' | 'software';
  /** With WebGPU: whether the adapter has shader-f16 (default true; without it the engine downloads fp32 files). */
  shaderF16?: boolean;
  downloadMs?: number;
  /** Files and their sizes in bytes (default: the files the real engine would download for the model on this device). */
  files?: { file: string; size: number }[];
  /** Models already downloaded on this device, for every device path (a return visit). */
  downloaded?: string[];
  /** The model host cannot be reached: every load fails (until set false). */
  offline?: boolean;
  prefer?: DevicePreference;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakeEngine extends EventTarget implements EngineController {
  status: EngineStatus = { state: 'idle' };
  device: DeviceChoice | null = null;
  model = DEFAULT_MODEL_ID;
  /** Make the next load fail (tests of the error state). */
  failNextLoad: string | null = null;
  /** The host cannot be reached: every load fails with ModelHostUnreachableError. */
  offline: boolean;
  loads = 0;
  /** What Settings asked for (tests read it). */
  prefer: DevicePreference;
  kvBudgetBytes: number | null = null;
  /** The model worker's memory as the real engine reports it (tests set it with reportMemory). */
  memory: EngineMemory | null = null;
  /** Where model files come from (Settings → model host; tests read it). */
  source: ModelSource = { kind: 'hub' };
  #loading: Promise<void> | null = null;
  readonly #downloaded: Set<string>;
  readonly #options: Omit<Required<FakeEngineOptions>, 'files' | 'downloaded' | 'offline' | 'prefer'> & Pick<FakeEngineOptions, 'files'>;
  /** Since the last load: whether an answer ran (WebGPU warms up once) and the pictures read. */
  #warm = false;
  readonly #seen = new Set<string>();

  constructor(options: FakeEngineOptions = {}) {
    super();
    this.#options = { device: 'webgpu', shaderF16: true, downloadMs: 1200, ...options };
    this.#downloaded = new Set(options.downloaded ?? []);
    this.offline = options.offline ?? false;
    this.prefer = options.prefer ?? 'auto';
  }

  /** The real device choice, on a simulated navigator.gpu. */
  async probe(): Promise<DeviceChoice> {
    if (!this.device) {
      const kind = this.#options.device;
      const features = new Set(this.#options.shaderF16 && kind === 'webgpu' ? ['shader-f16'] : []);
      const adapter = kind === 'wasm' ? null : { features, info: kind === 'software' ? { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true } : { vendor: 'Fake', architecture: 'GPU' } };
      this.device = await chooseDevice({ gpu: { requestAdapter: async () => adapter } }, { prefer: this.prefer });
      this.emitStatus();
    }
    return this.device;
  }

  async configure(settings: Partial<EngineSettings>): Promise<void> {
    if (settings.kvBudgetBytes !== undefined) this.kvBudgetBytes = settings.kvBudgetBytes;
    if (settings.source && JSON.stringify(settings.source) !== JSON.stringify(this.source)) {
      // Another host, as the real client: the simulated outage was the old host's; a failure is no longer news.
      this.source = settings.source;
      this.offline = false;
      if (this.status.state === 'error') {
        this.status = { state: 'idle' };
        this.emitStatus();
      }
    }
    if (!settings.device || settings.device === this.prefer) return;
    this.prefer = settings.device;
    this.device = null;
    this.status = { state: 'idle' };
    this.#warm = false;
    this.#seen.clear();
    await this.probe();
  }

  async isDownloaded(model: string = this.model): Promise<boolean> {
    const device = await this.probe();
    return this.#has(model, device.device);
  }

  #has(model: string, device: string): boolean {
    return this.#downloaded.has(model) || this.#downloaded.has(`${model}|${device}`);
  }

  forgetDownloads(): void {
    this.emitStatus();
  }

  /** Simulates deleting a model in Storage. */
  deleteDownload(model: string): void {
    for (const key of [...this.#downloaded]) if (key === model || key.startsWith(`${model}|`)) this.#downloaded.delete(key);
  }

  load(model: string = this.model): Promise<void> {
    if (this.status.state === 'ready' && model === this.model) return Promise.resolve();
    if (this.#loading && model === this.model) return this.#loading;
    this.model = model;
    this.#loading = this.run(model).finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  /** Used by the fake backend: the stage an answer waits in, as the real client reports it. */
  setGenerating(stage: GenerationStage | null, vision?: VisionProgress): void {
    this.status = stage ? { state: 'generating', model: this.model, stage, ...(vision ? { vision } : {}) } : { state: 'ready', model: this.model };
    this.emitStatus();
  }

  /** The first stage of an answer (the real client's rule), and the engine remembers the picture. */
  firstStage(imageHash: string | null): GenerationStage {
    const stage: GenerationStage = this.device?.device === 'webgpu' && !this.#warm ? 'warmup' : imageHash && !this.#seen.has(imageHash) ? 'image' : 'prompt';
    this.#warm = true;
    if (imageHash) this.#seen.add(imageHash);
    return stage;
  }

  notice(notice: EngineNotice): void {
    this.dispatchEvent(new CustomEvent<EngineNotice>('notice', { detail: notice }));
  }

  private async run(model: string): Promise<void> {
    this.loads += 1;
    const device = await this.probe();
    this.#warm = false;
    this.#seen.clear();
    if (this.#has(model, device.device)) {
      this.status = { state: 'loading', model, progress: null };
      this.emitStatus();
      await sleep(this.#options.downloadMs / 12);
      this.status = { state: 'ready', model };
      return this.emitStatus();
    }
    if (this.offline) {
      this.status = { state: 'loading', model, progress: null };
      this.emitStatus();
      await sleep(this.#options.downloadMs / 6);
      return this.fail(model, new ModelHostUnreachableError('huggingface.co does not answer: this device is offline, or the site is blocked here. The model’s files come from there; files already downloaded are kept.', { model, host: 'huggingface.co' }));
    }
    const sizes = this.#options.files ??
      (downloadSize(model, chooseDtypes(device)) ?? downloadSize(DEFAULT_MODEL_ID, chooseDtypes(device))!).files.map((f) => ({ file: f.file, size: f.bytes }));
    const files: FileProgress[] = sizes.map((f) => ({ file: f.file, loaded: 0, total: f.size, done: false }));
    const total = files.reduce((a, f) => a + f.total, 0);
    const steps = 12;
    for (let step = 1; step <= steps; step++) {
      for (const [i, f] of files.entries()) {
        // Files download side by side at different speeds.
        const share = Math.min(1, (step / steps) * (1 + i * 0.35));
        f.loaded = Math.round(f.total * share);
        f.done = f.loaded >= f.total;
      }
      const loaded = files.reduce((a, f) => a + f.loaded, 0);
      this.status = { state: 'loading', model, progress: { model, files: files.map((f) => ({ ...f })), loaded, total } };
      this.emitStatus();
      if (this.failNextLoad && step === steps / 2) {
        const message = this.failNextLoad;
        this.failNextLoad = null;
        return this.fail(model, new ModelLoadError(message, { model }));
      }
      await sleep(this.#options.downloadMs / steps);
    }
    this.#downloaded.add(`${model}|${device.device}`);
    this.status = { state: 'ready', model };
    this.emitStatus();
  }

  private fail(model: string, err: GlimpseError): never {
    this.status = { state: 'error', model, error: serializeError(err) };
    this.emitStatus();
    throw err;
  }

  /** As the real engine after a load, a turn or memory given back. */
  reportMemory(m: EngineMemory): void {
    this.memory = m;
    this.dispatchEvent(new CustomEvent<EngineMemory>('memory', { detail: m }));
  }

  private emitStatus(): void {
    this.dispatchEvent(new CustomEvent<EngineStatus>('status', { detail: this.status }));
  }
}

export interface FakeBackendOptions {
  tokenDelayMs?: number;
}

/** Streams a canned markdown answer (with a code block) that mentions the question and the image. */
export class FakeBackend implements ChatBackend {
  readonly id = 'local';
  readonly acceptsImages = true;
  /** As the local engine: Continue goes on with the rest of the canned answer. */
  readonly continues = true;
  tokenDelayMs: number;
  /** The next answer, instead of the canned one (tests: markdown, sanitizing). */
  nextAnswer: string | null = null;
  /** How much longer than usual the wait before the first token is (tests and screenshots of the stages). */
  prefillScale = 1;
  requests: BackendRequest[] = [];

  constructor(private readonly engine: FakeEngine, options: FakeBackendOptions = {}) {
    this.tokenDelayMs = options.tokenDelayMs ?? 25;
  }

  /** Half the "prefill" on the picture as a whole, the other half frame by frame ("frame 2 of 5"). */
  private async readFrames(blob: Blob, detail: ImageDetail, ms: number): Promise<void> {
    await sleep(ms / 2);
    const frames = await framesOf(blob, detail);
    for (let frame = 1; frame <= frames; frame++) {
      this.engine.setGenerating('image', { frame, frames });
      await sleep(ms / 2 / frames);
    }
  }

  async generate(req: BackendRequest): Promise<BackendResult> {
    this.requests.push(req);
    await this.engine.load(req.settings.model);
    const soFar = req.continueAnswer ? textOf(req.messages.at(-1)!) : '';
    const asked = req.messages.findLast((m) => m.role === 'user');
    const question = asked ? textOf(asked).trim() : '';
    const answer = this.nextAnswer ?? cannedAnswer(question, req.image !== null && req.messages.some(hasImagePart));
    this.nextAnswer = null;
    // Continue: the rest of the same answer. At most maxNewTokens pieces, as the engine's limit cuts.
    const rest = req.continueAnswer && answer.startsWith(soFar) ? answer.slice(soFar.length) : req.continueAnswer ? ' …and so on.' : answer;
    const all = rest.match(/\s*\S+|\s+/g) ?? [];
    const tokens = all.slice(0, Math.max(1, req.settings.maxNewTokens));
    const started = performance.now();
    let firstAt = 0;
    let full = soFar;
    const stage = this.engine.firstStage(req.image?.hash ?? null);
    this.engine.setGenerating(stage);
    try {
      const prefill = Math.max(120, this.tokenDelayMs * 8) * this.prefillScale;
      if (stage === 'image' && req.image) await this.readFrames(req.image.blob, req.settings.imageDetail, prefill);
      else await sleep(prefill); // "prefill"
      for (const [i, t] of tokens.entries()) {
        if (req.signal.aborted) throw new GenerationAbortedError('Stopped.', { partial: full });
        full += t;
        if (i === 0) {
          firstAt = performance.now();
          this.engine.setGenerating('writing');
        }
        req.onToken?.({ text: t, full, tokens: i + 1 });
        await sleep(this.tokenDelayMs);
      }
      if (req.signal.aborted) throw new GenerationAbortedError('Stopped.', { partial: full });
    } finally {
      this.engine.setGenerating(null);
    }
    const genMs = Math.max(1, performance.now() - firstAt);
    return {
      text: full,
      model: req.settings.model,
      details: {
        model: req.settings.model,
        backend: 'local',
        device: this.engine.device?.device ?? 'webgpu',
        tokens: tokens.length,
        tokensPerSecond: Math.round(((tokens.length - 1) / genMs) * 10000) / 10,
        timeToFirstTokenMs: Math.round(firstAt - started),
        finishReason: tokens.length < all.length ? 'length' : 'stop',
      },
    };
  }
}

/** The code block in both canned answers (code reads left to right in any of them). */
const RESIZE_CODE = ['```python', 'from PIL import Image', "Image.open('photo.jpg').resize((512, 512)).save('small.jpg')", '```'];

/** The canned answer in Arabic, for a question in Arabic (right-to-left text with code inside, as SmolVLM writes). */
function arabicAnswer(q: string, image: boolean): string {
  return [
    `${image ? 'هذا ما أراه في **الصورة**: صورة اختبار صغيرة بألوان هادئة.' : 'متابعةً لحديثنا:'} سألت: «${q}».`,
    '',
    '- الموضوع الرئيسي قريب من المنتصف.',
    '- الضوء يأتي من اليسار، والظلال ناعمة.',
    '- الألوان: أزرق فاتح في الأعلى، وأخضر داكن في الأسفل.',
    '',
    'لتصغير صورة كهذه في بايثون:',
    '',
    ...RESIZE_CODE,
    '',
    'اسألني عن أي شيء آخر فيها.',
  ].join('\n');
}

/** The image stage as the real engine reports it: the picture's tokens first, then its frames one by one. */
async function framesOf(blob: Blob, detail: ImageDetail): Promise<number> {
  try {
    const bitmap = await createImageBitmap(blob);
    const frames = planImage(bitmap.width, bitmap.height, detail).frames;
    bitmap.close();
    return frames;
  } catch {
    return 1;
  }
}

function cannedAnswer(question: string, image: boolean): string {
  const q = question.length > 80 ? `${question.slice(0, 79)}…` : question;
  if (/[\u0600-\u06FF]/u.test(question)) return arabicAnswer(q, image);
  const intro = image
    ? 'Here is what I can see in **the photo**: a small test picture with soft colours.'
    : 'Following up on our conversation:';
  return [
    `${intro} You asked: “${q || '(no question)'}”.`,
    '',
    '- The main subject is near the centre.',
    '- The light comes from the left.',
    '',
    'To resize such an image in Python:',
    '',
    ...RESIZE_CODE,
    '',
    'Ask me anything else about it.',
  ].join('\n');
}
