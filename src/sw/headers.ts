/**
 * The headers that make a page cross-origin isolated (SharedArrayBuffer, so ONNX Runtime's WebAssembly can
 * run on several threads), added by the service worker to the app's own responses because most static hosts
 * (GitHub Pages among them) cannot send them. `credentialless` rather than `require-corp`: cross-origin
 * requests without CORS are sent without cookies instead of being blocked, so a model host that answers
 * with CORS but no Cross-Origin-Resource-Policy (huggingface.co, most self-hosted ones) keeps working.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
};

/**
 * `response` with the isolation headers, unless it already names its own (a host that sets them is
 * trusted) or cannot be rewritten: an opaque response (a cross-origin no-cors answer, status 0) has no
 * readable headers and must be passed on as it is.
 */
export function withIsolation(response: Response): Response {
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.type === 'error') return response;
  const headers = new Headers(response.headers);
  let changed = false;
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) {
    if (headers.has(name)) continue;
    headers.set(name, value);
    changed = true;
  }
  if (!changed) return response;
  // A new Response also drops the `redirected` flag, which a navigation answered by a service worker may not carry.
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
