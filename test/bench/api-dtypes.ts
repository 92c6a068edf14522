/**
 * The REST API's local engine on each GLIMPSE_DTYPE choice (src/server/dtypes.ts), as the server loads it
 * (onnxruntime-node, CPU memory arena off): decode ms/token of a text answer, time to first token of a first
 * turn about a 1024×1024 photo at detail auto and decode ms/token after it, the first download from the hub's
 * real file sizes, and whether a follow-up answered from the KV cache equals the same turn computed fresh.
 */
import { downloadSize } from '../../src/engine/downloads';
import { VlmEngine } from '../../src/engine/engine';
import { API_DTYPES, dtypesFor, type ApiDtype } from '../../src/server/dtypes';
import { Conversation, ensureModel, image, median, MODEL_ID, repeat, round, settings, type GroupOptions, type GroupResult } from './common';

const TEXT = 'Write a long, detailed story about a lighthouse keeper who collects photographs of ships, and the day a ship arrives that is in none of them.';

interface Row {
  decodeMsPerToken: number;
  imageTtftMs: number;
  imageDecodeMsPerToken: number;
  imageTokens: number;
  downloadMB: number;
  cachedEqualsFresh: boolean;
}

const msPerToken = (s: { totalMs: number; timeToFirstTokenMs: number; tokens: number }) => (s.totalMs - s.timeToFirstTokenMs) / Math.max(1, s.tokens - 1);

export async function runApiDtypes(opts: GroupOptions): Promise<GroupResult> {
  const names = Object.keys(API_DTYPES) as ApiDtype[];
  const root = await ensureModel(opts.model, opts.log, names.map(dtypesFor));
  const photo = await image(1024, 1024, 7);
  const tokens = opts.quick ? 8 : 32;
  const repeats = opts.quick ? 1 : 2;
  const rows: Partial<Record<ApiDtype, Row>> = {};
  for (const name of names) {
    const engine = new VlmEngine();
    await engine.load({
      model: MODEL_ID, device: 'cpu', dtypes: dtypesFor(name), source: { kind: 'local', localModelPath: root },
      sessionOptions: { enableCpuMemArena: false }, // as the REST API loads it (GLIMPSE_ORT_ARENA off)
    });
    const text = new Conversation(null).user(TEXT).input(settings(tokens));
    const first = new Conversation(photo).user('What is in this picture? Describe it in detail.', true);
    await engine.generate(text, { noCache: true }); // warm-up
    await engine.generate(new Conversation(photo).user('Hi', true).input(settings(2, 'low')), { noCache: true });
    const decode = await repeat(repeats, async () => msPerToken((await engine.generate(text, { noCache: true })).stats));
    const withImage = await repeat(repeats, async () => (await engine.generate(first.input(settings(16)), { noCache: true })).stats);

    // A conversation about the photo: the follow-up from the cache, then the same turn from nothing.
    await engine.resetCache();
    const a1 = await engine.generate(first.input(settings(24)));
    const followUp = new Conversation(photo).user('What is in this picture? Describe it in detail.', true).assistant(a1.text).user('And what colours are in it?');
    const cached = await engine.generate(followUp.input(settings(24)));
    const fresh = await engine.generate(followUp.input(settings(24)), { noCache: true });
    await engine.unload();

    const row: Row = {
      decodeMsPerToken: round(median(decode), 2),
      imageTtftMs: Math.round(median(withImage.map((s) => s.timeToFirstTokenMs))),
      imageDecodeMsPerToken: round(median(withImage.map(msPerToken)), 2),
      imageTokens: withImage[0]!.imageTokens,
      downloadMB: round(downloadSize(MODEL_ID, dtypesFor(name))!.bytes / 1e6, 0),
      cachedEqualsFresh: cached.text === fresh.text && cached.stats.cachedTokens > 0,
    };
    rows[name] = row;
    opts.log(`GLIMPSE_DTYPE=${name}: decode ${row.decodeMsPerToken} ms/token, 1024×1024 auto TTFT ${row.imageTtftMs} ms ` +
      `(${row.imageTokens} image tokens), then ${row.imageDecodeMsPerToken} ms/token, download ${row.downloadMB} MB, ` +
      `cached == fresh ${row.cachedEqualsFresh} (cached ${cached.stats.cachedTokens} tokens)`);
  }
  const figure = <K extends keyof Row>(k: K) => Object.fromEntries(names.map((n) => [n, rows[n]![k]])) as Record<string, Row[K]>;
  return {
    figures: {
      api_decode_ms_per_token_by_dtype: figure('decodeMsPerToken'),
      api_image_ttft_ms_by_dtype: figure('imageTtftMs'),
      api_image_decode_ms_per_token_by_dtype: figure('imageDecodeMsPerToken'),
      api_download_mb_by_dtype: figure('downloadMB'),
      api_cached_equals_fresh: names.every((n) => rows[n]!.cachedEqualsFresh),
    },
    runs: { apiDtypes: { rows, newTokens: tokens, repeats, image: '1024x1024 png, detail auto' } },
  };
}
