/**
 * Reading configuration from environment variables, shared by the proxy and the REST API. No Node APIs:
 * the proxy's config also runs on edge runtimes, given their env bindings.
 */
export type Env = Record<string, string | undefined>;

/**
 * A whole-number reader that records every bad value in `problems` (so a server can refuse to start with
 * one message listing all of them) and falls back to the default meanwhile.
 */
export function intReader(env: Env, problems: string[]) {
  return (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
}

/** A comma-separated list, trimmed, without empty items. */
export const envList = (v: string | undefined): string[] =>
  (v ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
