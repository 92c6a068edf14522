/**
 * RSS of the REST API around one allowed 8,000-character message, with ONNX Runtime's CPU memory arena on and
 * off (issue 15, item 6). Not part of `npm test` (it needs the real-size model, ~1 GB, generated once into
 * .models/real, and a few minutes):
 *
 *   node --expose-gc --import tsx test/bench/long-message.ts          # both modes, one process each
 *
 * Each mode runs the server in a fresh process (the arena is a process-wide setting) and reports, after each
 * request, RSS (after a GC) and the peak RSS during it (VmHWM, reset before each request).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadApiConfig } from '../../src/server/config';
import { startApiServer } from '../../src/server/node';
import { ensureModel } from './common';

const statusMb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

function rssMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round(statusMb('VmRSS'));
}

async function measure(arena: 'on' | 'off'): Promise<void> {
  const root = await ensureModel('real', () => undefined);
  const config = loadApiConfig({
    MODEL_PATH: root, DATA_DIR: mkdtempSync(join(tmpdir(), 'glimpse-long-')), PORT: '0', GLIMPSE_MAX_NEW_TOKENS: '16', GLIMPSE_ORT_ARENA: arena,
  });
  const api = await startApiServer(config, { log: () => undefined });
  const step = async (what: string, message: string, sessionId?: string) => {
    writeFileSync('/proc/self/clear_refs', '5');
    const started = performance.now();
    const res = await fetch(`${api.url}/chat`, { method: 'POST', body: new URLSearchParams({ message, ...(sessionId ? { session_id: sessionId } : {}) }) });
    const body = (await res.json()) as { session_id: string };
    const row = { arena, what, status: res.status, promptTokens: Number(res.headers.get('x-glimpse-prompt-tokens')),
      seconds: Math.round((performance.now() - started) / 100) / 10, peakMb: Math.round(statusMb('VmHWM')), rssMb: rssMb() };
    console.log(JSON.stringify(row));
    return body.session_id;
  };
  console.log(JSON.stringify({ arena, what: 'started', rssMb: rssMb() }));
  const sid = await step('short message (the model loads)', 'Hello, my name is Alice');
  await step('short follow-up', 'And what is my name?', sid);
  const words = 'the quick brown fox jumps over the lazy dog while the poster shows a harbour at dawn ';
  const long = words.repeat(Math.ceil(8000 / words.length)).slice(0, 8000);
  await step('8,000-character message', long);
  for (let i = 1; i <= 3; i++) await step(`short message ${i} after it`, `short question ${i}`);
  await step('8,000-character message again', long);
  await step('short message after', 'short again');
  await api.close();
}

const mode = process.argv[2];
if (mode === 'on' || mode === 'off') {
  await measure(mode);
} else {
  for (const arena of ['on', 'off']) {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), arena], { encoding: 'utf8' });
    for (const line of out.split('\n').filter((l) => l.startsWith('{'))) {
      const r = JSON.parse(line) as Record<string, string | number>;
      console.log(`arena ${r.arena}  ${String(r.what).padEnd(34)} RSS ${String(r.rssMb).padStart(5)} MB` +
        (r.peakMb === undefined ? '' : `  peak ${String(r.peakMb).padStart(5)} MB  ${r.promptTokens} prompt tokens  ${r.seconds} s`));
    }
  }
}
