/**
 * Pictures in bounded memory (issue 21), in Node: the peak RSS of a first turn with a 17-frame picture (512×512
 * at detail high) as a ratio to a one-frame picture's (detail low), the vision encoder reading one frame at a
 * time as the engine does on the CPU; the one-batch way's peak beside it; and the vision encoder's time for
 * the 17 frames, batched vs one batch, in alternating pairs. onnxruntime-node with the q8 files (the WASM
 * path's) and the REST API's session options (CPU memory arena off). This group runs in its own process; the
 * one-frame turn is measured first, since memory the runtime keeps after a turn counts in the next peak.
 */
import type { DtypeMap, GenerateOutput } from '../../src/engine/protocol';
import { VlmEngine } from '../../src/engine/engine';
import { Conversation, ensureModel, image, median, MODEL_ID, PeakRss, round, settings, type GroupOptions, type GroupResult } from './common';

export const Q8: DtypeMap = { vision_encoder: 'q8', embed_tokens: 'q8', decoder_model_merged: 'q8' };
const FRAMES = 17;

export async function runVision(opts: GroupOptions): Promise<GroupResult> {
  const root = await ensureModel(opts.model, opts.log, [Q8]);
  const peak = new PeakRss();
  const engine = new VlmEngine();
  await engine.load({ model: MODEL_ID, device: 'cpu', dtypes: Q8, source: { kind: 'local', localModelPath: root }, sessionOptions: { enableCpuMemArena: false } });
  const img = await image(512, 512, 21);
  const turn = async (detail: 'low' | 'high', tokens = 4): Promise<GenerateOutput> => {
    await engine.resetCache();
    return engine.generate(new Conversation(img).user('What is in this picture?', true).input(settings(tokens, detail)), { noCache: true });
  };
  const measured = async (detail: 'low' | 'high') => {
    peak.reset();
    const out = await turn(detail);
    return { peakRssMb: peak.peakMb(), imageTokens: out.stats.imageTokens, visionMs: out.stats.visionMs ?? NaN };
  };

  const oneFrame = await measured('low');
  const batched = await measured('high');
  engine.vision.force(FRAMES);
  const oneBatch = await measured('high');
  opts.log(`vision (node): peak RSS one frame ${Math.round(oneFrame.peakRssMb)} MB, 17 frames one at a time ` +
    `${Math.round(batched.peakRssMb)} MB, 17 frames in one batch ${Math.round(oneBatch.peakRssMb)} MB`);

  // Alternating pairs (which goes first alternates too): the machine's load shows in both halves alike.
  const pairs: { batchedMs: number; oneBatchMs: number }[] = [];
  for (let i = 0; i < (opts.quick ? 1 : 2); i++) {
    const ms: Record<'batched' | 'oneBatch', number> = { batched: NaN, oneBatch: NaN };
    for (const way of i % 2 === 0 ? (['batched', 'oneBatch'] as const) : (['oneBatch', 'batched'] as const)) {
      engine.vision.force(way === 'batched' ? null : FRAMES);
      ms[way] = (await turn('high', 1)).stats.visionMs ?? NaN;
    }
    pairs.push({ batchedMs: ms.batched, oneBatchMs: ms.oneBatch });
    opts.log(`vision (node) pair ${i + 1}: 17 frames one at a time ${Math.round(ms.batched)} ms, one batch ${Math.round(ms.oneBatch)} ms`);
  }
  peak.stop();
  await engine.unload();
  return {
    figures: {
      vision_peak_ratio_node: round(batched.peakRssMb / oneFrame.peakRssMb, 2),
      vision_peak_ratio_node_one_batch: round(oneBatch.peakRssMb / oneFrame.peakRssMb, 2),
      vision_peak_rss_mb: { one_frame: Math.round(oneFrame.peakRssMb), frames_17: Math.round(batched.peakRssMb), frames_17_one_batch: Math.round(oneBatch.peakRssMb) },
      vision_17_frames_ms: round(median(pairs.map((p) => p.batchedMs)), 0),
      vision_17_frames_one_batch_ms: round(median(pairs.map((p) => p.oneBatchMs)), 0),
      vision_time_ratio: round(median(pairs.map((p) => p.batchedMs / p.oneBatchMs)), 3),
    },
    runs: { vision: { oneFrame, batched, oneBatch, pairs, dtypes: Q8, peakRss: peak.method, image: '512x512 png; detail low (1 frame) and high (17 frames)' } },
  };
}
