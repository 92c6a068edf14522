/** Shared test setup: the fake OpenAI server and a real proxy (node:http on 127.0.0.1) in front of it. */
import { loadConfig, type Env, type ProxyConfig } from '../../../src/proxy/config';
import { startProxy, type RunningProxy } from '../../../src/proxy/node';
import { startFakeOpenAI, type FakeOpenAI } from '../../fixtures/fake-openai';

export const TEST_KEY = 'sk-proj-GLIMPSE-TEST-KEY-3f9a1c7e5b2d';
export const FT_MODEL = 'ft:gpt-4o-mini-2024-07-18:acme:posters:abc123';
export const OTHER_MODEL = 'gpt-4o-mini';

export interface Stack {
  fake: FakeOpenAI;
  proxy: RunningProxy;
  config: ProxyConfig;
  /** Every line the proxy logged. */
  logs: string[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Fast retries and a short upstream timeout so fault tests take about a second, not minutes. Not shorter: on a
 * loaded 2-core machine a dropped connection took longer than 300 ms to notice and was reported as a timeout.
 */
export async function startStack(env: Env = {}): Promise<Stack> {
  const fake = await startFakeOpenAI();
  const config = loadConfig({
    OPENAI_API_KEY: TEST_KEY,
    OPENAI_BASE_URL: fake.baseURL,
    GLIMPSE_DEFAULT_MODEL: FT_MODEL,
    GLIMPSE_ALLOWED_MODELS: OTHER_MODEL,
    GLIMPSE_ALLOWED_ORIGINS: 'http://app.test',
    PORT: '0',
    GLIMPSE_UPSTREAM_TIMEOUT_MS: '1500',
    GLIMPSE_MAX_RETRIES: '2',
    GLIMPSE_RETRY_BASE_MS: '10',
    GLIMPSE_RETRY_MAX_MS: '40',
    GLIMPSE_MAX_RETRY_AFTER_MS: '2000',
    GLIMPSE_RATE_LIMIT: '1000',
    ...env,
  });
  const logs: string[] = [];
  const proxy = await startProxy(config, { log: (line) => logs.push(line) });
  return {
    fake, proxy, config, logs,
    post: (path, body, headers = {}) => fetch(`${proxy.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    async close() {
      await proxy.close();
      await fake.close();
    },
  };
}

export interface ErrorJson {
  error: { message: string; type: string; param: string | null; code: string | null };
}
