/**
 * The inference-server engine's time limit (GLIMPSE_ENGINE_TIMEOUT_MS), on the engine itself over real HTTP:
 * a server that never starts answering is retried and then named; one that goes silent mid-answer is not
 * retried and the text so far is kept. The limit is short here; nothing waits for it but the engine.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION } from '../../../src/chat/backend';
import { GlimpseError } from '../../../src/errors';
import { loadApiConfig, type OpenAIEngineConfig } from '../../../src/server/config';
import { fromError } from '../../../src/server/errors';
import { OpenAIEngine } from '../../../src/server/openai-engine';
import { startFakeInferenceServer, type FakeInferenceServer } from '../../fixtures/fake-inference-server';

let fake: FakeInferenceServer;
let engine: OpenAIEngine;
beforeAll(async () => {
  fake = await startFakeInferenceServer();
  const { engine: config } = loadApiConfig({ GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: fake.url, GLIMPSE_ENGINE_MODEL: 'm',
    GLIMPSE_ENGINE_TIMEOUT_MS: '400', GLIMPSE_ENGINE_RETRIES: '1' });
  engine = new OpenAIEngine({ config: config as OpenAIEngineConfig, retry: { baseDelayMs: 10, maxDelayMs: 20 } });
});
afterAll(() => fake?.close());
beforeEach(() => fake.reset());

const ask = async (): Promise<GlimpseError> => {
  const err = await engine.generate({
    sessionId: 's', image: null, settings: DEFAULT_GENERATION, signal: new AbortController().signal,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }], timestamp: '' }],
  }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(GlimpseError);
  return err as GlimpseError;
};

describe('the inference server time limit', () => {
  it('no answer at all: retried, then RemoteUnavailableError naming the limit (504)', async () => {
    fake.defaultMode = 'stall';
    const err = await ask();
    expect(err.name).toBe('RemoteUnavailableError');
    expect(err.message).toMatch(/did not answer within 400 ms \(after 2 attempts\)/);
    expect(fake.requests).toHaveLength(2);
    expect(fromError(err)?.status).toBe(504);
  });

  it('silent mid-answer: not retried, the text so far in data.partial (504)', async () => {
    fake.defaultMode = 'stall-mid-stream';
    const err = await ask();
    expect(err.name).toBe('RemoteUnavailableError');
    expect(err.message).toMatch(/went silent for 400 ms in the middle of the answer \(after 2 tokens\)/);
    expect(err.data.partial).toBe('Fake answer. ');
    expect(fake.requests).toHaveLength(1);
    await expect.poll(() => fake.requests[0]!.clientClosed, { timeout: 30_000 }).toBe(true); // the silent stream is closed, not left open
    expect(fromError(err)?.status).toBe(504);
  });
});
