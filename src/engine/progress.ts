import type { ProgressInfo } from '@huggingface/transformers';
import type { LoadProgress } from './protocol';

/** Turns transformers.js progress events into per-file and overall bytes. */
export class ProgressTracker {
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
