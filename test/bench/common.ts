/**
 * Shared pieces of the benchmark groups: the model on disk, the engine, conversations built the way the app
 * builds them, medians and peak-RSS probes.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_GENERATION, type GenerationSettings, type ImageDetail } from '../../src/chat/backend';
import { buildContext, DEFAULT_WINDOW } from '../../src/chat/context';
import { hashBlob } from '../../src/chat/images';
import { makeContent, type ChatMessage, type StoredMessage } from '../../src/chat/messages';
import { VlmEngine } from '../../src/engine/engine';
import type { DtypeMap, GenerateInput } from '../../src/engine/protocol';
import { makeImage } from '../fixtures/images';
import { ensureTinyModel, MODEL_ID } from '../fixtures/model/ensure';
import { makeTestModel, ONNX_PARTS, onnxFile, type Dtype } from '../fixtures/model/generate';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export { MODEL_ID };

export type ModelSize = 'tiny' | 'real';

export interface GroupOptions {
  quick: boolean;
  model: ModelSize;
  log: (line: string) => void;
}

/** A figure is a plain number or boolean (the median), or a small map of numbers. */
export type Figure = number | boolean | null | Record<string, number>;

export interface GroupResult {
  figures: Record<string, Figure>;
  /** Every run and supporting number, for whoever wants to look closer. */
  runs: Record<string, unknown>;
}

export const CPU_DTYPES: DtypeMap = { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' };

const REAL_ROOT = join(REPO_ROOT, '.models', 'real');
const REAL_STAMP = '.glimpse-bench-model.json';

/** The dtypes a set of dtype maps needs on disk (fp32 always: it is every comparison's reference). */
function dtypesOf(maps: DtypeMap[]): Dtype[] {
  const set = new Set<Dtype>(['fp32']);
  for (const m of maps) for (const d of Object.values(m)) set.add(d as Dtype);
  return [...set];
}

/**
 * The folder to use as localModelPath. The real-size faithful model (real tokenizer and config, random
 * weights) is generated once into .models/real with every dtype the groups ask for (~10 s and ~1 GB each).
 */
export async function ensureModel(size: ModelSize, log: (line: string) => void, maps: DtypeMap[] = [CPU_DTYPES]): Promise<string> {
  if (size === 'tiny') return ensureTinyModel();
  const dir = join(REAL_ROOT, MODEL_ID);
  const wanted = dtypesOf(maps);
  let have: Dtype[] = [];
  try {
    have = (JSON.parse(readFileSync(join(dir, REAL_STAMP), 'utf8')) as { dtypes?: Dtype[] }).dtypes ?? [];
  } catch {
    have = [];
  }
  const all = [...new Set([...have, ...wanted])];
  if (wanted.every((d) => have.includes(d)) && ONNX_PARTS.every((p) => wanted.every((d) => existsSync(join(dir, onnxFile(p, d)))))) return REAL_ROOT;
  log(`generating the real-size faithful model (${all.join(', ')}) into ${dir} (once)…`);
  mkdirSync(dirname(dir), { recursive: true });
  const temp = `${dir}.tmp-${process.pid}`;
  await makeTestModel({ size: 'real', out: temp, dtypes: all });
  writeFileSync(join(temp, REAL_STAMP), JSON.stringify({ size: 'real', dtypes: all, generated: new Date().toISOString() }));
  rmSync(dir, { recursive: true, force: true });
  renameSync(temp, dir);
  return REAL_ROOT;
}

export async function loadEngine(root: string): Promise<VlmEngine> {
  const engine = new VlmEngine();
  await engine.load({ model: MODEL_ID, device: 'cpu', dtypes: CPU_DTYPES, source: { kind: 'local', localModelPath: root } });
  return engine;
}

/** The app's defaults (greedy, repetition penalty 1.1) with a bounded answer length. */
export function settings(maxNewTokens: number, imageDetail: ImageDetail = 'auto'): GenerationSettings {
  return { ...DEFAULT_GENERATION, maxNewTokens, imageDetail };
}

export interface BenchImage {
  blob: Blob;
  hash: string;
}

export async function image(width: number, height: number, seed = 1): Promise<BenchImage> {
  const blob = await makeImage('png', width, height, seed);
  return { blob, hash: await hashBlob(blob) };
}

/**
 * A transcript kept the way the chat service keeps it, turned into the model's context by the app's own
 * rules (src/chat/context.ts): the 20-message window, the image carried by its message.
 */
export class Conversation {
  private readonly stored: StoredMessage[] = [];
  private imageHash: string | null = null;

  constructor(readonly img: BenchImage | null) {}

  user(text: string, withImage = false): this {
    if (withImage && this.img) this.imageHash = this.img.hash;
    return this.push('user', text, withImage && !!this.img);
  }

  assistant(text: string): this {
    return this.push('assistant', text, false);
  }

  /** Exchanges (user + assistant pairs) so far. */
  get exchanges(): number {
    return this.stored.filter((m) => m.role === 'assistant').length;
  }

  messages(): ChatMessage[] {
    return buildContext(this.stored, { windowSize: DEFAULT_WINDOW, systemPrompt: '', imageHash: this.imageHash }).messages;
  }

  input(s: GenerationSettings): GenerateInput {
    const image = this.imageHash && this.img ? { blob: this.img.blob, hash: this.img.hash } : null;
    return { sessionId: 'bench', messages: this.messages(), image, settings: s };
  }

  private push(role: 'user' | 'assistant', text: string, withImage: boolean): this {
    const seq = this.stored.length;
    this.stored.push({
      id: `m${seq}`,
      sessionId: 'bench',
      seq,
      role,
      content: makeContent(text, withImage),
      timestamp: new Date(Date.UTC(2026, 10, 21, 12, 0, seq)).toISOString(),
      ...(withImage && this.img ? { imageHash: this.img.hash } : {}),
      status: 'complete',
    });
    return this;
  }
}

export const QUESTIONS = [
  'What is in this picture?',
  'What colours stand out the most?',
  'Is there any text in it?',
  'Describe the top left corner.',
  'How many distinct shapes do you see?',
  'What mood does it have?',
  'Would this work as a poster?',
  'What would you change about the composition?',
  'Give it a short title.',
  'Summarise our conversation in one sentence.',
  'Which detail did we not talk about yet?',
];

export function question(i: number): string {
  return QUESTIONS[i % QUESTIONS.length]!;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Rounds to `digits` significant decimals for the JSON (timings are not more precise than that). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Peak resident memory of this process since the last reset: Linux's VmHWM, reset by writing 5 to
 * /proc/self/clear_refs (https://docs.kernel.org/filesystems/proc.html, "clear_refs"). Exact, no sampling.
 * Elsewhere it falls back to sampling process.memoryUsage().rss every 50 ms.
 */
export class PeakRss {
  private sampled = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly exact = canResetHwm();

  get method(): string {
    return this.exact ? 'VmHWM after clear_refs=5 (exact)' : 'rss sampled every 50 ms';
  }

  reset(): void {
    if (this.exact) {
      writeFileSync('/proc/self/clear_refs', '5');
      return;
    }
    this.sampled = process.memoryUsage().rss;
    this.timer ??= setInterval(() => (this.sampled = Math.max(this.sampled, process.memoryUsage().rss)), 50);
    this.timer.unref();
  }

  /** Peak RSS in MB since reset(). */
  peakMb(): number {
    if (this.exact) return statusKb('VmHWM') / 1024;
    this.sampled = Math.max(this.sampled, process.memoryUsage().rss);
    return this.sampled / 2 ** 20;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function statusKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function canResetHwm(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return Number.isFinite(statusKb('VmHWM'));
  } catch {
    return false;
  }
}

/** Runs `n` times; returns the values. */
export async function repeat<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out;
}
