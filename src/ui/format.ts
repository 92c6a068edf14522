import { firstDownload } from '../engine/downloads';
import { findModel, type ModelInfo } from '../engine/models';
import type { DeviceChoice, EngineStatus } from '../engine/protocol';
import type { ReplyDetails } from '../chat/messages';
import { windowStep } from '../chat/context';

/** Small formatting helpers shared by the elements. */

/**
 * "3.5 MB", "325 MB" ("7.4 kB", "68 B" for small files). Decimal units, as the Hugging Face hub shows file
 * sizes: the size promised before a download, its progress and the size of the cached model are the same number.
 */
export function mb(bytes: number): string {
  if (bytes < 1e3) return `${Math.round(bytes)} B`;
  if (bytes < 1e5) return `${(bytes / 1e3).toFixed(bytes < 1e4 ? 1 : 0)} kB`;
  const v = bytes / 1e6;
  return `${v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en')} MB`;
}

/** "820 MB", "1.4 GB" (decimal units, like mb). */
export function size(bytes: number): string {
  const gb = bytes / 1e9;
  return gb >= 1 ? `${gb < 10 ? gb.toFixed(1) : Math.round(gb).toLocaleString('en')} GB` : mb(bytes);
}

/**
 * What the first download of a model is on this device: "325 MB", or "about 500 MB" for a model whose file
 * sizes are estimated (rounded to 10 MB). Null before the device is known, and for a model from a folder.
 */
export function downloadText(model: string, device: Pick<DeviceChoice, 'device' | 'shaderF16'> | null | undefined): string | null {
  const d = firstDownload(model, device);
  if (!d) return null;
  return d.exact ? size(d.bytes) : `about ${size(d.bytes < 1e9 ? Math.round(d.bytes / 1e7) * 1e7 : d.bytes)}`;
}

/** A date as YYYY-MM-DD in local time (file names). */
export function isoDay(d = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function percent(loaded: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
}

/** What Settings says under a model: its description, and plainly when no test has run its own files. */
export function modelHelp(m: Pick<ModelInfo, 'description' | 'untested'>): string {
  return m.untested ? `${m.description} Not tested yet: Glimpse's tests have never run this checkpoint's own files, so it may fail to load or answer.` : m.description;
}

export function modelLabel(id: string): string {
  if (id.startsWith('local/')) return `${id.slice(6)} (from a folder)`;
  return findModel(id)?.label ?? (id.split('/').pop() || id || 'default model');
}

export function deviceLabel(device: string | undefined): string {
  if (device === 'webgpu') return 'WebGPU';
  if (device === 'wasm') return 'WASM';
  if (device === 'cpu') return 'CPU';
  return device ?? '';
}

/** The device path the download sizes are for: "WebGPU with 16-bit floats", "WebGPU without 16-bit floats", "WASM". */
export function devicePath(choice: Pick<DeviceChoice, 'device' | 'shaderF16'>): string {
  if (choice.device !== 'webgpu') return deviceLabel(choice.device);
  return choice.shaderF16 ? 'WebGPU with 16-bit floats' : 'WebGPU without 16-bit floats';
}

/** Where to read how to make a GPU usable for WebGPU (Chrome's own troubleshooting page). */
export const GPU_HELP_URL = 'https://developer.chrome.com/docs/web-platform/webgpu/troubleshooting-tips';

/** "WebGPU (NVIDIA Ampere)", "WebGPU (google swiftshader, software)", "the processor (WebAssembly)". */
export function deviceName(d: DeviceChoice): string {
  if (d.device === 'webgpu') return `WebGPU${d.adapter ? ` (${d.adapter}${d.software ? ', software' : ''})` : ''}`;
  return d.device === 'wasm' ? 'the processor (WebAssembly)' : deviceLabel(d.device);
}

const WHY: Record<NonNullable<DeviceChoice['cause']>, string> = {
  gpu: '',
  chosen: 'as set in Settings',
  'no-webgpu': 'this browser has no WebGPU',
  'no-adapter': 'the browser offers no GPU here',
  'software-adapter': 'the only GPU here is a slow software one',
  'gpu-failed': 'the GPU could not start the model',
  'gpu-lost': 'the GPU stopped responding twice',
};

/** Why the model runs where it runs, in plain words ('' when there is nothing to say). */
export function deviceWhy(d: DeviceChoice): string {
  if (d.cause) return d.device === 'webgpu' && d.software && d.cause === 'chosen' ? 'as set in Settings; a software GPU is slow' : WHY[d.cause];
  return d.fallback ? d.reason : '';
}

/** Whether turning on a GPU would help (the WebAssembly fallback): the status line links to how. */
export function gpuHelps(d: DeviceChoice): boolean {
  return d.device === 'wasm' && (d.cause === 'no-webgpu' || d.cause === 'no-adapter' || d.cause === 'software-adapter');
}

/** "2:14 PM" today, "Yesterday", "Mon", or "12 Mar" / "12 Mar 2025". */
export function shortDate(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const startOfDay = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((startOfDay(now) - startOfDay(d)) / 86_400_000);
  if (days === 0) return d.toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });
  if (days === 1) return 'Yesterday';
  if (days > 1 && days < 7) return d.toLocaleDateString(undefined, { weekday: 'short' });
  return d.toLocaleDateString(undefined, {
    day: 'numeric',
    month: 'short',
    ...(d.getFullYear() !== now.getFullYear() ? { year: 'numeric' } : {}),
  });
}

export function fullDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}

/** "SmolVLM 256M · WebGPU · 42 tokens · 12.3 tokens/s · first token 0.8 s" */
export function detailsLine(d: ReplyDetails | undefined): string[] {
  if (!d) return [];
  const parts: string[] = [];
  if (d.model) parts.push(modelLabel(d.model));
  if (d.backend === 'remote') parts.push('remote');
  if (d.device) parts.push(deviceLabel(d.device));
  if (d.tokens !== undefined) parts.push(`${d.tokens} tokens`);
  if (d.tokensPerSecond !== undefined) parts.push(`${d.tokensPerSecond.toFixed(1)} tokens/s`);
  if (d.timeToFirstTokenMs !== undefined) {
    const ms = d.timeToFirstTokenMs;
    parts.push(`first token ${ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`}`);
  }
  if (d.imageTokens) parts.push(`${d.imageTokens} image tokens`);
  if (d.temperature !== undefined) parts.push(`temperature ${d.temperature.toFixed(1)}`);
  if (d.seed !== undefined) parts.push(`seed ${d.seed}`);
  return parts;
}

/**
 * The engine's status as far as the model wanted now is concerned: a failed load of another model (the one
 * the user has since replaced, e.g. by loading one from a folder) is no longer news, and reads as idle.
 */
export function statusFor(status: EngineStatus, wanted: string | undefined): EngineStatus {
  return status.state === 'error' && wanted && status.model !== wanted ? { state: 'idle' } : status;
}

/** What the window setting does: it slides in steps (so the KV cache is reused between them), not one by one. */
export function windowHelp(size: number): string {
  const step = windowStep(size);
  const least = size - step + 1;
  const range = least < size ? `between ${least} and ${size} of the latest messages` : `the latest ${size} messages`;
  return `Once a chat is longer, the model sees ${range}: the window moves ${step} messages at a time, so most turns ` +
    'reuse what the model already read. Older messages stay in the chat; a marker shows where its memory starts.';
}
