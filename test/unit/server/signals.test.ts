/**
 * `npm run api` and `npm run proxy` under a process manager: SIGTERM goes to npm's process, which must reach
 * the server itself (npm runs the script through `sh -c`, which does not pass signals on). The REST API stops
 * the answer in flight (its text kept, marked stopped), closes its store and exits; nothing keeps listening.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSessionStore } from '../../../src/server/store';
import { startFakeInferenceServer } from '../../fixtures/fake-inference-server';

const root = mkdtempSync(join(tmpdir(), 'glimpse-signals-'));
const children: ChildProcess[] = [];

afterAll(() => {
  // Each npm run is a process group of its own: whatever a failed test left running goes with it.
  for (const c of children) if (c.pid) try { process.kill(-c.pid, 'SIGKILL'); } catch { /* already gone */ }
  rmSync(root, { recursive: true, force: true });
});

/** Starts `npm run <script>` and resolves with the URL its start line names. */
function start(script: string, env: Record<string, string>, pattern: RegExp): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const child = spawn('npm', ['run', '--silent', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    detached: true });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve({ child, url: m[1]!, out: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm run ${script} exited (${code}) before it started:\n${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => {
  if (child.exitCode !== null) resolve(child.exitCode);
  else child.once('exit', (code) => resolve(code));
});

const refuses = async (url: string) => fetch(url).then(() => false, () => true);

describe('SIGTERM to npm run', () => {
  it('the REST API stops the answer in flight (kept, marked stopped), closes its store and exits', async () => {
    const fake = await startFakeInferenceServer();
    fake.defaultMode = 'slow';
    fake.slowMs = 200;
    const dataDir = join(root, 'api');
    try {
      const { child, url, out } = await start('api', { GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: fake.url, GLIMPSE_ENGINE_MODEL: 'smolvlm',
        PORT: '0', DATA_DIR: dataDir }, /REST API on (http:\/\/[\d.]+:\d+)/);
      const form = new FormData();
      form.set('message', 'a long answer please');
      const pending = fetch(`${url}/chat`, { method: 'POST', body: form }).catch((err: unknown) => err);
      await expect.poll(() => fake.requests[0]?.sent ?? 0, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
      const t0 = performance.now();
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
      expect(performance.now() - t0).toBeLessThan(12_000); // the grace is 10 s; at load average 30 one run took over 8
      await pending;
      expect(await refuses(`${url}/health`)).toBe(true);
      expect(out()).toContain('SIGTERM: stopping');
      // The store was closed (its lock released): it opens again, with the stopped answer in it.
      const store = await FileSessionStore.open(dataDir);
      try {
        const [session] = await store.list();
        const answer = (await store.messages(session!.id)).at(-1)!;
        expect(answer).toMatchObject({ role: 'assistant', status: 'stopped' });
        expect((answer.content[0] as { text: string }).text).toMatch(/^Fake /);
      } finally {
        await store.close();
      }
    } finally {
      await fake.close();
    }
  }, 60_000);

  it('the proxy exits too', async () => {
    const { child, url } = await start('proxy', { OPENAI_API_KEY: 'sk-test-signals', PORT: '0' }, /proxy listening on (http:\/\/\S+)/);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(await refuses(`${url}/health`)).toBe(true);
  }, 60_000);
});
