import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../../src/proxy/cli';
import { OTHER_MODEL, startStack, type Stack } from './stack';

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
