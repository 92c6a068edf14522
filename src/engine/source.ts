import type { ModelSource } from './protocol';

/**
 * Where the app downloads model files from.
 *
 * Default: the Hugging Face hub. Self-hosting (no third-party requests at all): build with
 * `VITE_MODEL_HOST=<url or path>` (e.g. `./models/` to serve the weights next to the app, laid out as
 * `{owner}/{name}/resolve/main/{file}`, or set `VITE_MODEL_PATH_TEMPLATE='{model}/'` for a plain
 * `{owner}/{name}/{file}` folder), or enter a host in Settings (stored per browser). A relative host is
 * resolved against the page, so the app works from any subpath.
 */
export function resolveModelSource(
  setting: string | null | undefined,
  base: string = typeof document === 'undefined' ? 'http://localhost/' : document.baseURI,
): ModelSource {
  const env = import.meta.env as Record<string, string | undefined>;
  const host = (setting ?? '').trim() || env.VITE_MODEL_HOST;
  if (!host) return { kind: 'hub' };
  const absolute = new URL(host, base).href;
  return {
    kind: 'hub',
    remoteHost: absolute.endsWith('/') ? absolute : `${absolute}/`,
    remotePathTemplate: env.VITE_MODEL_PATH_TEMPLATE || '{model}/resolve/{revision}/',
  };
}
