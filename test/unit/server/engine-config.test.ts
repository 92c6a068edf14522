/**
 * GLIMPSE_ENGINE settings, and a server on the inference-server engine in a process of its own: it never
 * loads onnxruntime (nor transformers.js), even to check an uploaded image.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, loadApiConfig } from '../../../src/server/config';
import { configProblems as problems } from '../../fixtures/api-config';
import { makeImage } from '../../fixtures/images';
import { startFakeInferenceServer, type FakeInferenceServer } from '../../fixtures/fake-inference-server';
import { spawnServer, type ChildServer } from '../../fixtures/servers/spawn';

describe('GLIMPSE_ENGINE settings', () => {
  it('default: the local engine, the model from MODEL_ID', () => {
    expect(loadApiConfig({})).toMatchObject({ engine: { kind: 'local' }, model: DEFAULT_MODEL });
  });

  it('openai: the URL gets /v1 when it has none, the model is the one sent upstream, the key kept', () => {
    const config = loadApiConfig({ GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: 'http://127.0.0.1:8080/',
      GLIMPSE_ENGINE_MODEL: 'smolvlm', GLIMPSE_ENGINE_KEY: 'k' });
    expect(config).toMatchObject({ model: 'smolvlm', engine: { kind: 'openai', baseURL: 'http://127.0.0.1:8080/v1',
      model: 'smolvlm', apiKey: 'k', maxRetries: 2, timeoutMs: 300_000 } });
    expect(loadApiConfig({ GLIMPSE_ENGINE: 'OpenAI', GLIMPSE_ENGINE_URL: 'https://gpu.lan/v1', GLIMPSE_ENGINE_MODEL: 'm' }).engine)
      .toMatchObject({ baseURL: 'https://gpu.lan/v1' });
  });

  it('openai ignores MODEL_PATH (the inference server has its own files)', () => {
    expect(problems({ GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: 'http://h:1', GLIMPSE_ENGINE_MODEL: 'm',
      MODEL_PATH: '/nothing/here' })).toEqual([]);
  });

  it('every problem listed at once: no URL, no model, a bad URL, an unknown engine, bad numbers', () => {
    const missing = problems({ GLIMPSE_ENGINE: 'openai', PORT: 'x' });
    expect(missing.join('\n')).toMatch(/needs GLIMPSE_ENGINE_URL[\s\S]*needs GLIMPSE_ENGINE_MODEL[\s\S]*PORT must be/);
    for (const url of ['127.0.0.1:8080', 'ftp://host', 'http://', 'http://h:1/v1?x=1']) {
      expect(problems({ GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: url, GLIMPSE_ENGINE_MODEL: 'm' }))
        .toEqual([expect.stringMatching(/^GLIMPSE_ENGINE_URL must be an http\(s\) URL/)]);
    }
    expect(problems({ GLIMPSE_ENGINE: 'vllm' })).toEqual(['GLIMPSE_ENGINE must be local or openai (got "vllm")']);
    expect(problems({ GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: 'http://h:1', GLIMPSE_ENGINE_MODEL: 'm',
      GLIMPSE_ENGINE_RETRIES: '-1', GLIMPSE_ENGINE_TIMEOUT_MS: 'soon' })).toHaveLength(2);
  });
});

describe('a server on the inference-server engine', () => {
  let fake: FakeInferenceServer;
  let child: ChildServer;
  beforeAll(async () => {
    fake = await startFakeInferenceServer();
    child = await spawnServer('api', { GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: fake.url, GLIMPSE_ENGINE_MODEL: 'smolvlm' });
  });
  afterAll(async () => {
    await child?.stop();
    await fake?.close();
  });

  it('answers a turn with an image and never loads onnxruntime or transformers.js', async () => {
    const form = new FormData();
    form.append('message', 'What is this?');
    form.append('image', await makeImage('png', 64, 48, 5), 'p.png');
    const res = await fetch(`${child.url}/chat`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(fake.requests[0]!.images[0]).toMatch(/^data:image\/png;base64,/);
    // A damaged image is refused before anything is stored, by sharp alone.
    const bad = new FormData();
    bad.append('message', 'And this?');
    const bytes = new Uint8Array(await (await makeImage('png', 64, 48, 6)).arrayBuffer());
    bad.append('image', new Blob([bytes.slice(0, bytes.length - 40)], { type: 'image/png' }), 'cut.png');
    const refused = await fetch(`${child.url}/chat`, { method: 'POST', body: bad });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ImageUnreadableError');
    expect(fake.requests).toHaveLength(1);

    const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8');
    expect(maps).toMatch(/sharp/); // the check above did load a native module: the test can see one
    expect(maps).not.toMatch(/onnxruntime/);
    expect(child.alive()).toBe(true);
  });
});
