import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiConfigError, DEFAULT_MODEL, loadApiConfig } from '../../../src/server/config';

const root = mkdtempSync(join(tmpdir(), 'glimpse-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadApiConfig', () => {
  it('defaults: 127.0.0.1:8002, .data, the hub, a queue of 8, 20 MB uploads', () => {
    expect(loadApiConfig({})).toMatchObject({
      host: '127.0.0.1',
      port: 8002,
      dataDir: resolve('.data'),
      model: DEFAULT_MODEL,
      source: { kind: 'hub' },
      queueSize: 8,
      maxUploadBytes: 20 * 1024 * 1024,
      maxNewTokens: 512,
      imageDetail: 'auto',
      allowedOrigins: [],
      allowedHosts: [],
      ortArena: false,
    });
  });

  it('MODEL_PATH as a root laid out {owner}/{name}/, or as the model folder itself', () => {
    const model = join(root, 'HuggingFaceTB', 'SmolVLM-256M-Instruct');
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, 'config.json'), '{}');
    expect(loadApiConfig({ MODEL_PATH: root })).toMatchObject({ model: DEFAULT_MODEL, source: { kind: 'local', localModelPath: root } });
    expect(loadApiConfig({ MODEL_PATH: model })).toMatchObject({
      model: 'SmolVLM-256M-Instruct',
      source: { kind: 'local', localModelPath: join(root, 'HuggingFaceTB') },
    });
  });

  it('lists every problem at once', () => {
    let err: unknown;
    try {
      loadApiConfig({ PORT: 'abc', GLIMPSE_API_QUEUE: '-1', GLIMPSE_IMAGE_DETAIL: 'ultra', MODEL_PATH: join(root, 'nothing') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiConfigError);
    const problems = (err as ApiConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT must be/);
    expect(problems).toMatch(/GLIMPSE_API_QUEUE must be/);
    expect(problems).toMatch(/GLIMPSE_IMAGE_DETAIL must be/);
    expect(problems).toMatch(/MODEL_PATH=.* holds no model/);
  });

  it('host names (GLIMPSE_API_HOSTS) and the ONNX Runtime memory arena (GLIMPSE_ORT_ARENA)', () => {
    expect(loadApiConfig({ GLIMPSE_API_HOSTS: 'glimpse.lan, 10.0.0.5', GLIMPSE_ORT_ARENA: 'ON' })).toMatchObject({
      allowedHosts: ['glimpse.lan', '10.0.0.5'],
      ortArena: true,
    });
    expect(() => loadApiConfig({ GLIMPSE_ORT_ARENA: 'maybe' })).toThrow(/GLIMPSE_ORT_ARENA must be on or off/);
  });

  it('a self-hosted model host and allowed origins', () => {
    expect(loadApiConfig({ GLIMPSE_MODEL_HOST: 'http://models.lan/hub', GLIMPSE_API_ORIGINS: 'http://localhost:5173/, https://x.example' })).toMatchObject({
      source: { kind: 'hub', remoteHost: 'http://models.lan/hub/' },
      allowedOrigins: ['http://localhost:5173', 'https://x.example'],
    });
  });
});
