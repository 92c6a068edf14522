/**
 * A fetch handler (a Hono app's `fetch`) on node:http, shared by the proxy's and the REST API's Node entries.
 * @hono/node-server turns each IncomingMessage into a Request; around it this module makes sure no request can
 * stop the process or get an answer that is not JSON:
 *  - a request that cannot become a fetch Request (a Host that is not a host name, a target that is not a
 *    path) is a JSON 400 (@hono/node-server's error handler), never an exception in the listener;
 *  - what node:http refuses itself (broken framing, headers too large, a timeout, CONNECT) is a JSON error too;
 *  - an answer sent before the body was read (413, 503) is followed by a bounded lingering read of the body,
 *    so a client still uploading receives the answer instead of a connection reset.
 * One log line per request: time, client address, method, path, status, duration; never a header or a body.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener, RequestError } from '@hono/node-server';
import type { HttpBindings } from '../http/app';
import { GlimpseError } from '../errors';
import { errorJson, errorResponse, type ErrorBody } from '../http/errors';

export type FetchFn = (req: Request, env: HttpBindings) => Response | Promise<Response>;

export interface ServeOptions {
  host: string;
  port: number;
  log: (line: string) => void;
  /** How long, and how many bytes, to keep reading an unread body after answering (default 10 s, 64 MiB). */
  lingerMs?: number;
  lingerBytes?: number;
  /** The setting that chooses the port, named when it is taken (default PORT). */
  portSetting?: string;
}

/** The port is taken (another server, or this one already running): which port, and the setting that moves it. */
export class PortInUseError extends GlimpseError {
  static override readonly errorName = 'PortInUseError';
}

export interface Served {
  server: Server;
  /** e.g. http://127.0.0.1:8002 */
  url: string;
  close(): Promise<void>;
}

const malformed = (message: string, status = 400, code = 'MalformedRequestError'): ErrorBody =>
  ({ status, type: 'invalid_request_error', message, code, param: null });

/** What node:http's parser refused, as a JSON error. */
function clientErrorBody(code: string | undefined): ErrorBody {
  if (code === 'HPE_HEADER_OVERFLOW') return malformed('The request headers are too large.', 431, 'HeadersTooLargeError');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return malformed('The request took too long to arrive.', 408, 'RequestTimeoutError');
  return malformed(`This is not an HTTP/1.1 request this server can read (${code ?? 'parse error'}).`);
}

/**
 * Writes a whole JSON answer straight to a socket that has no response object (parse errors, CONNECT), then
 * reads and drops what else comes until the client closes (a socket nobody reads never sees its end: a flood of
 * CONNECTs would hold every one of them open), for a few seconds at most.
 */
function answerRaw(socket: Socket, e: ErrorBody): void {
  const body = errorJson(e);
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
  socket.resume();
  socket.setTimeout(5_000, () => socket.destroy());
}

/**
 * After an answer that left the body unread: drop the rest of it for a while, then close. Without this the
 * socket closes with unread data and the client, still uploading, gets a reset instead of the answer.
 */
function linger(req: IncomingMessage, ms: number, maxBytes: number): void {
  if (req.complete || req.destroyed) return;
  let read = 0;
  const stop = () => req.socket.destroy();
  const timer = setTimeout(stop, ms);
  timer.unref();
  // A body stream the handler abandoned (Readable.toWeb) would pause the socket again: only we read now.
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > maxBytes) stop();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

function listener(fetch: FetchFn, opts: ServeOptions) {
  const hono = getRequestListener(
    (req, env) => {
      const incoming = (env as { incoming: IncomingMessage }).incoming;
      return fetch(req, { address: incoming.socket.remoteAddress ?? 'unknown', incoming });
    },
    {
      // Our linger() replaces its 500 ms drain; the globals stay Node's own (the engine shares the process).
      autoCleanupIncoming: false,
      overrideGlobalObjects: false,
      errorHandler: (err) => errorResponse(err instanceof RequestError
        ? malformed(`This request could not be read: ${err.message}.`)
        : { status: 500, type: 'internal_error', code: 'InternalError', message: 'The server failed unexpectedly.' }),
    },
  );
  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!.slice(0, 200);
    const line = (status: string) => opts.log(`${new Date().toISOString()} ${req.socket.remoteAddress ?? 'unknown'} ` +
      `${req.method} ${path} ${status} ${Math.round(performance.now() - started)}ms`);
    res.once('finish', () => {
      line(String(res.statusCode));
      linger(req, opts.lingerMs ?? 10_000, opts.lingerBytes ?? 64 * 2 ** 20);
    });
    res.once('close', () => {
      if (!res.writableFinished) line('client closed');
    });
    hono(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(errorJson({ status: 500, type: 'internal_error', code: 'InternalError', message: 'The server failed unexpectedly.' }));
    });
  };
}

function guard(server: Server, log: (line: string) => void): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
    log(`${new Date().toISOString()} ${socket.remoteAddress ?? 'unknown'} - - refused (${err.code ?? 'parse error'})`);
    answerRaw(socket, clientErrorBody(err.code));
  });
  // An Expect other than 100-continue: node:http would answer a bare 417.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const body = errorJson({ status: 417, type: 'invalid_request_error', code: 'ExpectationFailedError', param: null,
      message: 'This server only understands "Expect: 100-continue".' });
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(body);
    log(`${new Date().toISOString()} ${req.socket.remoteAddress ?? 'unknown'} ${req.method} - 417`);
  });
  // CONNECT asks us to be a tunnel; node:http would drop the socket without a word.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => undefined);
    answerRaw(socket, { status: 405, type: 'invalid_request_error', code: 'MethodNotAllowedError', param: null,
      message: 'CONNECT is not allowed: this server is not a proxy.' });
  });
}

function portInUse(opts: ServeOptions): PortInUseError {
  const where = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  const setting = opts.portSetting ?? 'PORT';
  return new PortInUseError(
    `Cannot listen on ${where}: ${where} is already in use (another server, or this one already running). ` +
      `Stop it, or choose another port with ${setting}=… (e.g. ${setting}=${opts.port === 65_535 ? opts.port - 1 : opts.port + 1}; 0 picks any free port).`,
    { host: opts.host, port: opts.port, setting },
  );
}

/** Puts `fetch` on `opts.host:opts.port` (port 0 = any free port). */
export async function serveFetch(fetch: FetchFn, opts: ServeOptions): Promise<Served> {
  // Host is checked by the app, with a JSON answer; node:http's own check would answer a bare 400.
  const server = createServer({ requireHostHeader: false }, listener(fetch, opts));
  guard(server, opts.log);
  // Every socket, those handed over by CONNECT or a parse error too, so close() ends them all.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? portInUse(opts) : err));
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
  };
}
