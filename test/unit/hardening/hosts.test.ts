/**
 * Issue 15, item 3: DNS rebinding. A page on attacker.example whose DNS name is made to point at this machine
 * reaches the server with `Host: attacker.example` (and no Origin on a same-origin GET). Both servers answer
 * only the names they are meant to be reached by, in every bind mode, and the names are configurable.
 * Driven through the fetch handlers (no socket: a wildcard bind is never opened in a test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/proxy/config';
import { createProxyHandler } from '../../../src/proxy/handler';
import { loadApiConfig } from '../../../src/server/config';
import { apiFetch } from '../server/api-app';

const root = mkdtempSync(join(tmpdir(), 'glimpse-hosts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function apiAnswer(env: Record<string, string>, url: string): Promise<Response> {
  const fetchApi = await apiFetch(loadApiConfig({ DATA_DIR: join(root, `d${n++}`), ...env }));
  try {
    return await fetchApi(new Request(url));
  } finally {
    await fetchApi.close();
  }
}

const proxyAnswer = (env: Record<string, string>, url: string) =>
  createProxyHandler(loadConfig({ OPENAI_API_KEY: 'sk-test-hosts-0000', ...env }))(new Request(url), { address: '127.0.0.1' });

const code = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;

describe('the REST API answers only its own host names', () => {
  it.each(['127.0.0.1', '0.0.0.0', '::'])('bound to %s: a rebinding host is refused with 403', async (host) => {
    const res = await apiAnswer({ HOST: host }, 'http://attacker.example:8002/chat/sessions');
    expect(res.status).toBe(403);
    expect(await code(res)).toBe('HostNotAllowedError');
  });

  it('loopback names are answered in every bind mode', async () => {
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      for (const url of ['http://127.0.0.1:8002/chat/sessions', 'http://localhost:8002/chat/sessions', 'http://[::1]:8002/chat/sessions']) {
        expect((await apiAnswer({ HOST: host }, url)).status, `${url} bound to ${host}`).toBe(200);
      }
    }
  });

  it('GLIMPSE_API_HOSTS names the others', async () => {
    const env = { HOST: '0.0.0.0', GLIMPSE_API_HOSTS: 'glimpse.lan, 192.168.1.20' };
    expect((await apiAnswer(env, 'http://glimpse.lan:8002/chat/sessions')).status).toBe(200);
    expect((await apiAnswer(env, 'http://GLIMPSE.LAN.:8002/chat/sessions')).status).toBe(200);
    expect((await apiAnswer(env, 'http://192.168.1.20:8002/health')).status).toBe(200);
    expect((await apiAnswer(env, 'http://attacker.example:8002/health')).status).toBe(403);
  });
});

describe('the proxy answers only its own host names', () => {
  it.each(['127.0.0.1', '0.0.0.0'])('bound to %s: a rebinding host cannot list the models (the fine-tune id)', async (host) => {
    const res = await proxyAnswer({ HOST: host, GLIMPSE_DEFAULT_MODEL: 'ft:secret-model' }, 'http://attacker.example:8787/v1/models');
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).not.toContain('ft:secret-model');
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'HostNotAllowedError', type: 'permission_error' } });
  });

  it('loopback names are answered; GLIMPSE_ALLOWED_HOSTS names an edge deployment\'s own host', async () => {
    expect((await proxyAnswer({}, 'http://localhost:8787/v1/models')).status).toBe(200);
    const env = { GLIMPSE_ALLOWED_HOSTS: 'proxy.example.com' };
    expect((await proxyAnswer(env, 'https://proxy.example.com/health')).status).toBe(200);
    expect((await proxyAnswer(env, 'https://evil.example.com/health')).status).toBe(403);
    expect((await proxyAnswer({ GLIMPSE_ALLOWED_HOSTS: '*' }, 'https://anything.example/health')).status).toBe(200);
  });
});
