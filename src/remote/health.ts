/**
 * Is the Glimpse proxy up? `GET {proxyUrl}/health` (a few bytes; no model call), asked when the remote
 * backend is chosen and after a remote answer fails, so the status line never shows "ready" for a proxy
 * that is down.
 */
export interface ProxyHealth {
  ok: boolean;
  /** What is wrong and what to do, for a person ('' when ok). */
  message: string;
  /** The proxy's default model, when it said. */
  model?: string;
  /** The models it allows and those of them that read images (its GLIMPSE_IMAGE_MODELS), when it said. */
  models?: string[];
  imageModels?: string[];
}

const names = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 100) : undefined;

export async function checkProxy(proxyUrl: string, timeoutMs = 5000, fetcher: typeof fetch = fetch): Promise<ProxyHealth> {
  const base = proxyUrl.trim().replace(/\/+$/, '').replace(/\/v1$/, '');
  if (!/^https?:\/\/[^/]/.test(base)) {
    return { ok: false, message: 'Set the proxy URL in Settings (for example http://127.0.0.1:8787).' };
  }
  try {
    const res = await fetcher(`${base}/health`, { signal: AbortSignal.timeout(timeoutMs), cache: 'no-store' });
    if (!res.ok) return { ok: false, message: `The proxy at ${base} answered ${res.status}. Check its log, or the URL in Settings.` };
    const body = (await res.json().catch(() => ({}))) as { default_model?: unknown; models?: unknown; image_models?: unknown };
    const models = names(body.models);
    const imageModels = names(body.image_models);
    return {
      ok: true,
      message: '',
      ...(typeof body.default_model === 'string' ? { model: body.default_model } : {}),
      ...(models ? { models } : {}),
      ...(imageModels ? { imageModels } : {}),
    };
  } catch {
    return {
      ok: false,
      message:
        `Nothing answers at ${base} (or it does not allow this page: GLIMPSE_ALLOWED_ORIGINS). Start the proxy ` +
        '(npm run proxy) or fix the URL in Settings; until then, choose “On this device” to keep chatting.',
    };
  }
}
