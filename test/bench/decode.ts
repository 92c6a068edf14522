/**
 * decode_overhead: decode ms/token through the whole app path divided by a raw `model.generate` on the same
 * prompt with the same generation settings.
 *
 *   app path: the worker's protocol logic (createHandler) run in-process, every message structured-cloned
 *             both ways as postMessage does, the engine with its TextStreamer and KV bookkeeping.
 *             ms/token = (done message received − first token) / (tokens − 1).
 *   raw:      AutoModelForVision2Seq.generate with a do-nothing streamer that only timestamps tokens.
 *             ms/token = (generate resolved − first token) / (tokens − 1).
 * Runs come in adjacent pairs, the order alternating (app-raw, raw-app, …); the figure is the median of the
 * pairs' ratios, so drift and other load on the machine hit both sides of a pair alike.
 *
 * decode_cpu_overhead: the same pairs, in CPU time (process.cpuUsage: the JavaScript thread and ONNX
 * Runtime's threads) per decode step, from the end of the prefill forward to the end of the run. Wall time
 * on a loaded machine mostly measures the wait for a core (pairs from 0.5 to 1.9 at load 27-36); the CPU a
 * step takes moves far less with load, and every piece of work the app path adds per token is in it.
 */
import { AutoModelForVision2Seq, AutoProcessor, Tensor, type PreTrainedModel, type Processor } from '@huggingface/transformers';
import { loadavg } from 'node:os';
import { createHandler } from '../../src/engine/handler';
import type { EngineRequest, EngineResponse, GenerateOutput } from '../../src/engine/protocol';
import { Conversation, CPU_DTYPES, ensureModel, loadEngine, median, MODEL_ID, repeat, round, settings, type GroupOptions, type GroupResult } from './common';

const PROMPT =
  'I am planning a small exhibition of photographs taken along the coast in winter: grey light, wet sand, a few ' +
  'figures walking dogs, fishing boats pulled up on the shingle, and the lighthouse at dusk. I have about forty ' +
  'prints and room for twenty. Explain how you would choose and order them so the visit tells a story from ' +
  'morning to night, what to put at the entrance, how to hang the large prints next to the small ones, and how ' +
  'to write captions that are short but still say where and when each picture was taken.';

interface Side {
  msPerToken: number;
  /** CPU time (all threads) per decode step, ms. */
  cpuMsPerToken: number;
  ttftMs: number;
  tokens: number;
  promptTokens: number;
}

export async function runDecode(opts: GroupOptions): Promise<GroupResult> {
  const root = await ensureModel(opts.model, opts.log);
  const engine = await loadEngine(root); // also points transformers.js at `root`
  const processor = await AutoProcessor.from_pretrained(MODEL_ID);
  const model = await AutoModelForVision2Seq.from_pretrained(MODEL_ID, { dtype: { ...CPU_DTYPES }, device: 'cpu' });

  const prefill = watchPrefill([model, (engine as unknown as { model: PreTrainedModel }).model]);
  const tokens = opts.quick ? 16 : 48;
  const s = settings(tokens);
  const input = new Conversation(null).user(PROMPT).input(s);
  const app = appPath(engine, prefill);
  const ids = rawIds(processor, input.messages);

  await app(input);
  await raw(model, ids, s.maxNewTokens, s.repetitionPenalty, prefill); // warm-up both

  const repeats = opts.quick ? 2 : 9;
  const runs = await repeat(repeats, async (r) => {
    const rawRun = () => raw(model, ids, s.maxNewTokens, s.repetitionPenalty, prefill);
    let a: Side;
    let b: Side;
    if (r % 2 === 0) {
      a = await app(input);
      b = await rawRun();
    } else {
      b = await rawRun();
      a = await app(input);
    }
    opts.log(`decode run ${r + 1}/${repeats}: app ${a.msPerToken.toFixed(2)} ms/token, raw ${b.msPerToken.toFixed(2)} ms/token; ` +
      `CPU app ${a.cpuMsPerToken.toFixed(2)}, raw ${b.cpuMsPerToken.toFixed(2)} ms/token; load ${loadavg()[0]!.toFixed(1)}`);
    return { app: a, raw: b };
  });
  await engine.unload();
  await (model as unknown as { dispose(): Promise<unknown> }).dispose();

  const appMs = median(runs.map((r) => r.app.msPerToken));
  const rawMs = median(runs.map((r) => r.raw.msPerToken));
  return {
    figures: {
      decode_overhead: round(median(runs.map((r) => r.app.msPerToken / r.raw.msPerToken)), 3),
      // Other load on the machine only ever adds time: the fastest run of each side is its own cost.
      decode_overhead_best: round(Math.min(...runs.map((r) => r.app.msPerToken)) / Math.min(...runs.map((r) => r.raw.msPerToken)), 3),
      decode_ms_per_token_app: round(appMs, 2),
      decode_ms_per_token_raw: round(rawMs, 2),
      decode_cpu_overhead: round(median(runs.map((r) => r.app.cpuMsPerToken / r.raw.cpuMsPerToken)), 3),
      decode_cpu_ms_per_token_app: round(median(runs.map((r) => r.app.cpuMsPerToken)), 2),
      decode_cpu_ms_per_token_raw: round(median(runs.map((r) => r.raw.cpuMsPerToken)), 2),
    },
    runs: { decode: runs, repeats, newTokens: tokens },
  };
}

/** Where the prefill forward of the current run ended: wall clock and the process's CPU time, in ms. */
interface Prefill {
  arm(): void;
  end(): { wall: number; cpu: number };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Wraps each model's forward to note the end of the first forward (the prefill) after arm(). */
function watchPrefill(models: PreTrainedModel[]): Prefill {
  let armed = false;
  let at = { wall: 0, cpu: 0 };
  for (const m of models) {
    const target = m as unknown as { forward(x: unknown): Promise<unknown> };
    const forward = target.forward.bind(target);
    target.forward = async (x) => {
      const out = await forward(x);
      if (armed) {
        armed = false;
        at = { wall: performance.now(), cpu: cpuMs() };
      }
      return out;
    };
  }
  return {
    arm: () => {
      armed = true;
    },
    end: () => at,
  };
}

/** The engine behind the worker's handler, messages cloned as postMessage would; a reset before each run. */
function appPath(engine: Awaited<ReturnType<typeof loadEngine>>, prefill: Prefill) {
  let doneAt = 0;
  let result: GenerateOutput | null = null;
  let failure: unknown = null;
  const handle = createHandler((message: EngineResponse) => {
    const m = structuredClone(message);
    if (m.type === 'done' && m.result && typeof m.result === 'object' && 'stats' in m.result) {
      doneAt = performance.now();
      result = m.result as GenerateOutput;
    } else if (m.type === 'error') {
      failure = m.error;
    }
  }, engine);
  let nextId = 1;
  const send = (req: EngineRequest) => handle(structuredClone(req));

  return async (input: Parameters<typeof engine.generate>[0]): Promise<Side> => {
    await send({ id: nextId++, type: 'reset' });
    result = null;
    prefill.arm();
    const t0 = performance.now();
    await send({ id: nextId++, type: 'generate', input });
    const cpuEnd = cpuMs();
    const out = result as GenerateOutput | null;
    if (!out) throw new Error(`app path failed: ${JSON.stringify(failure)}`);
    const firstAt = t0 + out.stats.timeToFirstTokenMs;
    return {
      msPerToken: (doneAt - firstAt) / Math.max(1, out.stats.tokens - 1),
      cpuMsPerToken: (cpuEnd - prefill.end().cpu) / Math.max(1, out.stats.tokens - 1),
      ttftMs: out.stats.timeToFirstTokenMs,
      tokens: out.stats.tokens,
      promptTokens: out.stats.promptTokens,
    };
  };
}

function rawIds(processor: Processor, messages: unknown[]): number[] {
  const text = processor.apply_chat_template(messages as never, { add_generation_prompt: true, tokenize: false }) as unknown as string;
  return processor.tokenizer!.encode(text);
}

async function raw(model: PreTrainedModel, ids: number[], maxNewTokens: number, repetitionPenalty: number, prefill: Prefill): Promise<Side> {
  const times: number[] = [];
  let puts = 0;
  // generate() puts the prompt first, then each new token.
  const streamer = { put: () => (puts++ > 0 ? times.push(performance.now()) : 0), end: () => undefined };
  prefill.arm();
  const t0 = performance.now();
  await model.generate({
    input_ids: new Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    max_new_tokens: maxNewTokens,
    do_sample: false,
    repetition_penalty: repetitionPenalty,
    streamer,
  } as never);
  const end = performance.now();
  const cpuEnd = cpuMs();
  const first = times[0] ?? end;
  const steps = Math.max(1, times.length - 1);
  return { msPerToken: (end - first) / steps, cpuMsPerToken: (cpuEnd - prefill.end().cpu) / steps, ttftMs: first - t0, tokens: times.length, promptTokens: ids.length };
}
