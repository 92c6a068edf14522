/**
 * A fixed-window request counter per client. Returns 0 when the request may go ahead, otherwise the seconds
 * until the client's window resets (for Retry-After). Expired windows are swept so the map stays small.
 * Per instance: on serverless, each isolate counts on its own (docs/proxy.md says to use the platform's limiter).
 */
export function createRateLimiter(
  limit: { max: number; windowMs: number },
  now: () => number,
): (key: string) => number {
  const windows = new Map<string, { count: number; resetAt: number }>();
  let nextSweep = 0;
  return (key) => {
    const t = now();
    if (t >= nextSweep) {
      for (const [k, w] of windows) if (w.resetAt <= t) windows.delete(k);
      nextSweep = t + limit.windowMs;
    }
    let w = windows.get(key);
    if (w === undefined || w.resetAt <= t) {
      w = { count: 0, resetAt: t + limit.windowMs };
      windows.set(key, w);
    }
    w.count += 1;
    return w.count <= limit.max ? 0 : Math.max(1, Math.ceil((w.resetAt - t) / 1000));
  };
}
