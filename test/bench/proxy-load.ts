/**
 * Load run for the proxy (not part of `npm test`): the fake OpenAI upstream and the proxy on loopback, in
 * this one process, hit first directly and then through the proxy, so the difference is the proxy's cost.
 *
 *   node --expose-gc --import tsx test/bench/proxy-load.ts [requests=10000] [concurrency=32] [seconds=60]
 *
 * Each loaded phase stops at `requests` or `seconds`, whichever comes first; a sequential phase (500 requests,
 * concurrency 1) gives the added latency without queueing. Loopback only.
 */
import { loadConfig } from '../../src/proxy/config';
import { startProxy } from '../../src/proxy/node';
import { startFakeOpenAI } from '../fixtures/fake-openai';

const [total = 10_000, concurrency = 32, seconds = 60] = process.argv.slice(2).map(Number);

interface Phase { name: string; done: number; errors: number; ms: number; p50: number; p99: number; rps: number }

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
const mb = () => {
  const m = process.memoryUsage();
  return `RSS ${Math.round(m.rss / 2 ** 20)} MB, heap ${Math.round(m.heapUsed / 2 ** 20)} MB`;
};

async function phase(name: string, url: string, body: object, stream: boolean, total: number, concurrency: number,
): Promise<Phase> {
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const payload = JSON.stringify({ ...body, stream });
  const worker = async () => {
    while (started < total && performance.now() < deadline) {
      started++;
      const t = performance.now();
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
        const text = await res.text();
        const complete = stream ? text.includes('data: [DONE]') && !text.includes('"error"') : text.includes('You said');
        if (res.status !== 200 || !complete) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return { name, done: latencies.length, errors, ms: Math.round(ms), p50: pct(latencies, 0.5), p99: pct(latencies, 0.99),
    rps: Math.round((latencies.length / ms) * 1000) };
}

const fake = await startFakeOpenAI();
const config = loadConfig({ OPENAI_API_KEY: 'sk-bench-not-a-real-key', OPENAI_BASE_URL: fake.baseURL, PORT: '0',
  GLIMPSE_RATE_LIMIT: '1000000', GLIMPSE_DEFAULT_MODEL: 'ft:gpt-4o-mini-2024-07-18:bench:posters:1' });
const proxy = await startProxy(config, { log: () => undefined });
const body = { model: config.defaultModel, messages: [{ role: 'user', content: 'a poster for a summer jazz night' }] };

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
// Warm-up (JIT, keep-alive sockets), not counted.
await phase('warm-up', `${proxy.url}/v1/chat/completions`, body, false, 1000, concurrency);
fake.requests.length = 0; // the fake records every request; keep it from skewing RSS
gc();
const rssBefore = mb();
const results: Phase[] = [];
for (const [n, c] of [[500, 1], [total, concurrency]] as const) {
  for (const stream of [false, true]) {
    const tag = `${stream ? ' stream' : ''} c=${c}`;
    results.push(await phase(`direct${tag}`, `${fake.baseURL}/chat/completions`, body, stream, n, c));
    fake.requests.length = 0;
    results.push(await phase(`proxy${tag}`, `${proxy.url}/v1/chat/completions`, body, stream, n, c));
    fake.requests.length = 0;
  }
}
gc();
const rssAfter = mb();

console.log(`requests/phase ≤ ${total}, concurrency ${concurrency}, ≤ ${seconds}s/phase, Node ${process.version}`);
console.table(results.map((r) => ({ phase: r.name, requests: r.done, errors: r.errors, 'req/s': r.rps,
  'p50 ms': r.p50.toFixed(2), 'p99 ms': r.p99.toFixed(2), 'wall ms': r.ms })));
for (const kind of [' c=1', ' stream c=1', ` c=${concurrency}`, ` stream c=${concurrency}`]) {
  const d = results.find((r) => r.name === `direct${kind}`)!;
  const p = results.find((r) => r.name === `proxy${kind}`)!;
  console.log(`added by the proxy${kind}: p50 +${(p.p50 - d.p50).toFixed(2)} ms, p99 +${(p.p99 - d.p99).toFixed(2)} ms`);
}
console.log(`memory after GC (whole process: client + proxy + fake): ${rssBefore} after warm-up; ${rssAfter} at the end`);
await proxy.close();
await fake.close();
