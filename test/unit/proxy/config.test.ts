import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ORIGINS, DEFAULT_SYSTEM_PROMPT, loadConfig, ProxyConfigError } from '../../../src/proxy/config';

describe('loadConfig', () => {
  it('refuses to start without OPENAI_API_KEY, listing every problem at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: '99999', GLIMPSE_RATE_LIMIT: 'lots' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProxyConfigError);
    const problems = (err as ProxyConfigError).problems;
    expect(problems).toHaveLength(3);
    expect((err as Error).message).toMatch(/OPENAI_API_KEY is missing/);
    expect((err as Error).message).toMatch(/PORT must be a whole number/);
    expect((err as Error).message).toMatch(/GLIMPSE_RATE_LIMIT/);
    expect(() => loadConfig({ OPENAI_API_KEY: '   ' })).toThrow(/OPENAI_API_KEY/);
    expect(() => loadConfig({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'ftp://x' })).toThrow(/OPENAI_BASE_URL/);
  });

  it('has safe defaults: loopback, the poster prompt, the dev origins', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'k' });
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8787);
    expect(c.systemPrompt).toBe(DEFAULT_SYSTEM_PROMPT);
    expect(c.systemPrompt).toMatch(/poster/);
    expect(c.allowedOrigins).toEqual(DEFAULT_ORIGINS);
    expect(c.baseURL).toBeUndefined();
  });

  it('always allows the default model, once, and reads the lists', () => {
    const c = loadConfig({
      OPENAI_API_KEY: 'k', GLIMPSE_DEFAULT_MODEL: 'ft:a', GLIMPSE_ALLOWED_MODELS: ' gpt-4o-mini, ft:a ,,ft:b',
      GLIMPSE_ALLOWED_ORIGINS: 'https://glimpse.example/, http://localhost:5173', HOST: '0.0.0.0', PORT: '9000',
      GLIMPSE_SYSTEM_PROMPT: 'Be terse.', OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1',
    });
    expect(c.defaultModel).toBe('ft:a');
    expect(c.allowedModels).toEqual(['ft:a', 'gpt-4o-mini', 'ft:b']);
    expect(c.allowedOrigins).toEqual(['https://glimpse.example', 'http://localhost:5173']);
    expect(c).toMatchObject({ host: '0.0.0.0', port: 9000, systemPrompt: 'Be terse.', baseURL: 'http://127.0.0.1:8000/v1' });
  });
});

describe('npm run proxy', () => {
  it('exits with a clear message and status 1 when OPENAI_API_KEY is not set', () => {
    const env = { ...process.env };
    delete env.OPENAI_API_KEY;
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../../src/proxy/node.ts')],
      { env, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/The proxy cannot start:\n\s+- OPENAI_API_KEY is missing/);
  });
});
