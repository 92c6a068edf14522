/**
 * The chat CLI: one turn against a running proxy's POST /chat.
 *
 *   npm run chat -- --message "..." [--history conversation.json] [--model ID] [--temp 0.8] [--proxy URL]
 *
 * Prints the answer; with --history, reads the conversation from the file (a missing file = a new one) and
 * writes the updated conversation back. The CLI never sees the OpenAI key: only the proxy has it.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { InvalidImportError } from '../errors';

export interface CliIo {
  fetch: typeof fetch;
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Ctrl-C: aborts the request (the proxy then aborts its upstream call at once). */
  signal?: AbortSignal;
}

/** The exit code of a run stopped with Ctrl-C (128 + SIGINT), as shells report it. */
export const STOPPED_EXIT = 130;
const STOPPED = 'Stopped: the request was cancelled (the answer comes whole, so there is no partial text); ' +
  'the history file is unchanged.';

const USAGE = 'Usage: npm run chat -- --message "..." [--history conversation.json] [--model ID] [--temp 0.8] ' +
  '[--proxy URL]\n  --proxy defaults to $GLIMPSE_PROXY_URL or http://127.0.0.1:8787';

async function readHistory(path: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  if (text.trim() === '') return [];
  const parsed: unknown = JSON.parse(text);
  if (Array.isArray(parsed)) return parsed;
  const inner = (parsed as { conversation_history?: unknown }).conversation_history;
  if (Array.isArray(inner)) return inner;
  throw new InvalidImportError(`${path} must hold a JSON list of {role, content} (or {"conversation_history": [...]})`);
}

function stopped(io: CliIo): number {
  io.err(STOPPED);
  return STOPPED_EXIT;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 request failed, 2 usage error). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let values: { message?: string; history?: string; model?: string; temp?: string; proxy?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        message: { type: 'string', short: 'm' },
        history: { type: 'string' },
        model: { type: 'string' },
        temp: { type: 'string' },
        proxy: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.message === undefined) {
    io.err(`--message is required.\n${USAGE}`);
    return 2;
  }
  let temperature: number | undefined;
  if (values.temp !== undefined) {
    temperature = Number(values.temp);
    if (values.temp.trim() === '' || !Number.isFinite(temperature)) {
      io.err(`--temp must be a number from 0 to 2 (got "${values.temp}")`);
      return 2;
    }
  }
  let history: unknown[] = [];
  if (values.history !== undefined) {
    try {
      history = await readHistory(values.history);
    } catch (e) {
      io.err(`Cannot read the history file: ${(e as Error).message}`);
      return 2;
    }
  }

  const proxy = (values.proxy ?? io.env.GLIMPSE_PROXY_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
  let res: Response;
  try {
    res = await io.fetch(`${proxy}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: values.message, conversation_history: history, temperature, model: values.model }),
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } catch {
    if (io.signal?.aborted) return stopped(io);
    io.err(`Could not reach the proxy at ${proxy}. Start it with: npm run proxy`);
    return 1;
  }
  const body = await res.json().catch(() => null) as
    | { response?: string; conversation_history?: unknown[]; model_used?: string; finish_reason?: string;
      error?: { message?: string; param?: string | null } }
    | null;
  if (io.signal?.aborted) return stopped(io);
  if (!res.ok || body === null || typeof body.response !== 'string') {
    const e = body?.error;
    io.err(`Error ${res.status}: ${e?.message ?? 'unexpected answer from the proxy'}${e?.param ? ` (field: ${e.param})` : ''}`);
    return 1;
  }
  io.out(body.response);
  // On stderr, so a script reading the answer from stdout gets the answer alone.
  if (body.finish_reason === 'length') io.err('(The answer was cut at the proxy\'s token limit, GLIMPSE_MAX_TOKENS: ask it to go on.)');
  if (values.history !== undefined) {
    // Write then rename so an interrupted write never leaves half a conversation.
    const tmp = `${values.history}.tmp-${process.pid}`;
    await writeFile(tmp, `${JSON.stringify(body.conversation_history ?? [], null, 2)}\n`);
    await rename(tmp, values.history);
  }
  if (body.model_used) io.err(`(model: ${body.model_used})`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stop = new AbortController();
  // The first Ctrl-C cancels the request and says so; a second one ends the process at once.
  process.once('SIGINT', () => stop.abort());
  void runCli(process.argv.slice(2), {
    fetch: globalThis.fetch,
    out: (t) => console.log(t),
    err: (t) => console.error(t),
    env: process.env,
    signal: stop.signal,
  }).then((code) => { process.exitCode = code; });
}
