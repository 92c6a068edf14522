/**
 * Download speed and time left from progress samples: bytes over the last few seconds, so a stall shows
 * (the speed falls) and a burst does not promise too much.
 */
const WINDOW_MS = 5000;

export class DownloadRate {
  #samples: { t: number; bytes: number }[] = [];

  /** Records the bytes loaded so far; a smaller number than before starts over (a new download). */
  update(bytes: number, now = performance.now()): void {
    const last = this.#samples.at(-1);
    if (last && bytes < last.bytes) this.#samples = [];
    this.#samples.push({ t: now, bytes });
    while (this.#samples.length > 2 && now - this.#samples[0]!.t > WINDOW_MS) this.#samples.shift();
  }

  reset(): void {
    this.#samples = [];
  }

  /** Bytes per second, once there is at least half a second of samples; null before. */
  get bytesPerSecond(): number | null {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.t - first.t < 500) return null;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }

  /** Seconds until `total` bytes at the current speed; null when unknown (or stalled). */
  secondsLeft(total: number): number | null {
    const speed = this.bytesPerSecond;
    const last = this.#samples.at(-1);
    if (!speed || speed <= 0 || !last) return null;
    return Math.max(0, (total - last.bytes) / speed);
  }
}

/** "4.2 MB/s", "850 kB/s". */
export function speedText(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1e6) return `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond < 1e7 ? 1 : 0)} MB/s`;
  return `${Math.max(1, Math.round(bytesPerSecond / 1e3))} kB/s`;
}

/** "about 40 s left", "about 3 min left", "about 1 h 20 min left". */
export function timeLeftText(seconds: number): string {
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds / 5) * 5)} s left`;
  const min = Math.round(seconds / 60);
  if (min < 60) return `about ${min} min left`;
  return `about ${Math.floor(min / 60)} h ${min % 60} min left`;
}
