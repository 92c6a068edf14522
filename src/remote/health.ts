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
}

export async function checkProxy(proxyUrl: string, timeoutMs = 5000, fetcher: typeof fetch = fetch): Promise<ProxyHealth> {
  const base = proxyUrl.trim().replace(/\/+$/, '').replace(/\/v1$/, '');
  if (!/^https?:\/\/[^/]/.test(base)) {
    return { ok: false, message: 'Set the proxy URL in Settings (for example http://127.0.0.1:8787).' };
  }
  try {
    const res = await fetcher(`${base}/health`, { signal: AbortSignal.timeout(timeoutMs), cache: 'no-store' });
    if (!res.ok) return { ok: false, message: `The proxy at ${base} answered ${res.status}. Check its log, or the URL in Settings.` };
    const body = (await res.json().catch(() => ({}))) as { default_model?: unknown };
    return { ok: true, message: '', ...(typeof body.default_model === 'string' ? { model: body.default_model } : {}) };
  } catch {
    return {
      ok: false,
      message:
        `Nothing answers at ${base} (or it does not allow this page: GLIMPSE_ALLOWED_ORIGINS). Start the proxy ` +
        '(npm run proxy) or fix the URL in Settings; until then, choose “On this device” to keep chatting.',
    };
  }
}
