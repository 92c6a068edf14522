/**
 * node:http ↔ fetch (Request → Response), shared by the Node entries of the proxy and the REST API, whose
 * logic are plain fetch handlers (so they also run on serverless and edge runtimes). Streams responses
 * with backpressure, aborts the request's signal when the client goes away, and logs one line per request
 * (method, path, status, time: never a header or a body).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

export type FetchHandler = (req: Request, client: { address: string }) => Promise<Response>;

export function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, init);
}

export async function writeResponse(response: Response, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  if (response.body === null) return void res.end();
  const reader = response.body.getReader();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    res.end();
  }
}

/** Wraps a fetch handler in a node:http listener. */
export function nodeListener(handler: FetchHandler, log: (line: string) => void, what = 'server') {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const controller = new AbortController();
    // 'close' before the response finished = the client went away: abort (which aborts upstream work).
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const path = (req.url ?? '/').split('?')[0];
    const client = { address: req.socket.remoteAddress ?? 'unknown' };
    const line = (status: string) =>
      log(`${new Date().toISOString()} ${client.address} ${req.method} ${path} ${status} ${Math.round(performance.now() - started)}ms`);
    res.on('finish', () => line(String(res.statusCode)));
    void handler(toRequest(req, controller.signal), client)
      .then((response) => writeResponse(response, res, controller.signal))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `The ${what} failed unexpectedly.`, type: 'internal_error', param: null, code: null } }));
      })
      .finally(() => {
        if (controller.signal.aborted) line('client closed');
      });
  };
}
