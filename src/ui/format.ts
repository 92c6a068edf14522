import { findModel } from '../engine/models';
import type { ReplyDetails } from '../chat/messages';

/** Small formatting helpers shared by the elements. */

export function mb(bytes: number): string {
  const v = bytes / (1024 * 1024);
  return `${v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en')} MB`;
}

/** "820 MB", "1.4 GB" (binary units, like the browser's storage figures). */
export function size(bytes: number): string {
  const gb = bytes / 1024 ** 3;
  return gb >= 1 ? `${gb < 10 ? gb.toFixed(1) : Math.round(gb).toLocaleString('en')} GB` : mb(bytes);
}

/** A date as YYYY-MM-DD in local time (file names). */
export function isoDay(d = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function percent(loaded: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
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
  return parts;
}
