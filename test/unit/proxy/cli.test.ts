import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, STOPPED_EXIT, type CliIo } from '../../../src/proxy/cli';
import { OTHER_MODEL, startStack, type Stack } from './stack';

const ROOT = resolve(import.meta.dirname, '../../..');
let s: Stack;
let dir: string;
beforeAll(async () => {
  s = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'glimpse-cli-'));
});
afterAll(() => s.close());
beforeEach(() => s.fake.reset());

function io(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { fetch: globalThis.fetch, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env: {}, stdout, stderr };
}

describe('npm run chat', () => {
  it('prints the answer and writes the updated history back, turn after turn', async () => {
    const file = join(dir, 'conversation.json');
    const a = io();
    expect(await runCli(['--message', 'A jazz poster', '--history', file, '--proxy', s.proxy.url], a)).toBe(0);
    expect(a.stdout).toEqual(['You said: A jazz poster']);
    const b = io();
    expect(await runCli(['--message', 'Make it blue', '--history', file, '--temp', '0.8', '--model', OTHER_MODEL,
      '--proxy', `${s.proxy.url}/`], b)).toBe(0);
    const history = JSON.parse(await readFile(file, 'utf8')) as unknown;
    expect(history).toEqual([
      { role: 'user', content: 'A jazz poster' }, { role: 'assistant', content: 'You said: A jazz poster' },
      { role: 'user', content: 'Make it blue' }, { role: 'assistant', content: 'You said: Make it blue' },
    ]);
    const second = s.fake.requests[1]?.body;
    expect(second?.temperature).toBe(0.8);
    expect(second?.model).toBe(OTHER_MODEL);
    expect((second?.messages as unknown[]).length).toBe(4); // system + 2 history + new message
    expect(b.stderr.join('\n')).toMatch(new RegExp(`model: ${OTHER_MODEL}`));
  });

  it('says on stderr when the proxy\'s token limit cut the answer; stdout has the answer alone', async () => {
    const cut = await startStack({ GLIMPSE_MAX_TOKENS: '3' });
    try {
      const a = io();
      expect(await runCli(['--message', 'a long poster brief', '--proxy', cut.proxy.url], a)).toBe(0);
      expect(a.stdout).toEqual(['You said: a ']);
      expect(a.stderr).toContain('(The answer was cut at the proxy\'s token limit, GLIMPSE_MAX_TOKENS: ask it to go on.)');
      const b = io();
      expect(await runCli(['--message', 'hi', '--proxy', cut.proxy.url], b)).toBe(0);
      expect(b.stderr.join('\n')).not.toContain('token limit');
    } finally {
      await cut.close();
    }
  });

  it('reads the proxy URL from GLIMPSE_PROXY_URL and accepts {conversation_history: [...]} files', async () => {
    const file = join(dir, 'wrapped.json');
    await writeFile(file, JSON.stringify({ conversation_history: [{ role: 'user', content: 'earlier' }] }));
    const o = { ...io(), env: { GLIMPSE_PROXY_URL: s.proxy.url } };
    expect(await runCli(['-m', 'now'], o)).toBe(0);
    expect(s.fake.requests).toHaveLength(1);
    expect(await runCli(['-m', 'now', '--history', file], o)).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveLength(3);
  });

  it('shows the proxy\'s error with the field and leaves the history file untouched', async () => {
    const file = join(dir, 'keep.json');
    await writeFile(file, '[]');
    const o = io();
    expect(await runCli(['--message', 'hi', '--temp', '5', '--history', file, '--proxy', s.proxy.url], o)).toBe(1);
    expect(o.stderr.join('\n')).toMatch(/Error 400: .*temperature.*\(field: temperature\)/);
    expect(await readFile(file, 'utf8')).toBe('[]');
  });

  it('usage errors exit 2; an unreachable proxy exits 1 with a hint', async () => {
    const o = io();
    expect(await runCli([], o)).toBe(2);
    expect(o.stderr.join('')).toMatch(/--message is required/);
    expect(await runCli(['--message', 'x', '--bogus'], io())).toBe(2);
    expect(await runCli(['--message', 'x', '--temp', 'warm'], io())).toBe(2);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"nope": 1}');
    expect(await runCli(['--message', 'x', '--history', bad], io())).toBe(2);
    const down = io();
    expect(await runCli(['--message', 'x', '--proxy', 'http://127.0.0.1:9'], down)).toBe(1);
    expect(down.stderr.join('')).toMatch(/Could not reach the proxy.*npm run proxy/);
  });
});

describe('npm run chat: Ctrl-C', () => {
  it('cancels the request at once: the proxy drops its upstream call, the CLI says so, exits 130, history untouched', async () => {
    s.fake.defaultMode = 'stall';
    const file = join(dir, 'stopped.json');
    await writeFile(file, '[]');
    const ctrl = new AbortController();
    const o = { ...io(), signal: ctrl.signal };
    const code = runCli(['--message', 'a long answer', '--history', file, '--proxy', s.proxy.url], o);
    await expect.poll(() => s.fake.requests.length).toBe(1);
    ctrl.abort();
    expect(await code).toBe(STOPPED_EXIT);
    expect(o.stderr.join('\n')).toMatch(/^Stopped: the request was cancelled.*history file is unchanged/);
    expect(o.stdout).toEqual([]);
    await expect.poll(() => s.fake.requests[0]?.clientClosed).toBe(true);
    expect(await readFile(file, 'utf8')).toBe('[]');
  });

  it('the real process: SIGINT while the model answers ends it with 130 and the message, and frees the upstream', async () => {
    s.fake.defaultMode = 'stall';
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/proxy/cli.ts', '--message', 'hi', '--proxy', s.proxy.url],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await expect.poll(() => s.fake.requests.length, { timeout: 60_000 }).toBe(1);
    child.kill('SIGINT');
    expect(await exited).toBe(STOPPED_EXIT);
    expect(stderr).toMatch(/Stopped: the request was cancelled/);
    await expect.poll(() => s.fake.requests[0]?.clientClosed).toBe(true);
  }, 90_000);
});
