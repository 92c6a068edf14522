/**
 * decode per device path: the faithful model with each path's own files (onnxruntime-node, CPU), decode
 * ms/token of each next to fp32, and the decode floor.
 *
 * A decode step reads every decoder weight once, so a step cannot be faster than (decoder bytes) ÷ (memory
 * bandwidth): the floor. Bandwidth is measured here, in this process, with memcpy (TypedArray.set) over
 * buffers far larger than the caches: bytes read + bytes written per second. `floor_ratio` = measured ÷
 * floor says how far each graph is from memory-bound (1.0 would be perfect).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DTYPE_SUFFIX } from '../../src/engine/device';
import { SMOLVLM_256M_FILES } from '../../src/engine/downloads';
import { VlmEngine } from '../../src/engine/engine';
import type { DtypeMap } from '../../src/engine/protocol';
import { DEFAULT_API_DTYPE, dtypesFor } from '../../src/server/dtypes';
import { Conversation, ensureModel, median, MODEL_ID, repeat, round, settings, type GroupOptions, type GroupResult } from './common';

const all = (d: DtypeMap['decoder_model_merged']): DtypeMap => ({ vision_encoder: d, embed_tokens: d, decoder_model_merged: d });

/** The files each device path requests (src/engine/device.ts chooseDtypes), by a short name for the JSON. */
export const DEVICE_PATHS: { name: string; label: string; dtypes: DtypeMap }[] = [
  { name: 'fp32', label: 'fp32 everywhere (Node, the reference)', dtypes: all('fp32') },
  { name: 'q8', label: 'q8 everywhere (WASM)', dtypes: all('q8') },
  { name: 'q4', label: 'fp32 + q4 decoder (WebGPU without shader-f16)', dtypes: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'q4' } },
  { name: 'q4f16', label: 'fp16 + q4f16 decoder (WebGPU with shader-f16)', dtypes: { vision_encoder: 'fp16', embed_tokens: 'fp16', decoder_model_merged: 'q4f16' } },
  { name: 'api_q4', label: 'q8 + q4 decoder (REST API default, GLIMPSE_DTYPE=q4)', dtypes: dtypesFor(DEFAULT_API_DTYPE) },
];

const PROMPT = 'Write a long, detailed story about a lighthouse keeper who collects photographs of ships, and the day a ship arrives that is in none of them.';

/** Memory bandwidth in bytes/s: memcpy of a 256 MB buffer (read + write), best of several. */
export function memoryBandwidth(): number {
  const src = new Float64Array(32 * 2 ** 20).fill(1); // 256 MB
  const dst = new Float64Array(src.length);
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * src.byteLength) / (best / 1000);
}

function decoderBytes(root: string, dtypes: DtypeMap): { generated: number; hub: number } {
  const file = `onnx/decoder_model_merged${DTYPE_SUFFIX[dtypes.decoder_model_merged]}.onnx`;
  return { generated: statSync(join(root, MODEL_ID, file)).size, hub: SMOLVLM_256M_FILES[file] ?? NaN };
}

export async function runDtypes(opts: GroupOptions): Promise<GroupResult> {
  const root = await ensureModel(opts.model, opts.log, DEVICE_PATHS.map((p) => p.dtypes));
  const bandwidth = memoryBandwidth();
  opts.log(`memory bandwidth (memcpy, read + write): ${(bandwidth / 1e9).toFixed(1)} GB/s`);
  const tokens = opts.quick ? 12 : 32;
  const input = new Conversation(null).user(PROMPT).input({ ...settings(tokens), repetitionPenalty: 1 });
  const rows: Record<string, { msPerToken: number; floorMs: number; ratio: number; decoderMB: number; vsFp32: number }> = {};
  for (const path of DEVICE_PATHS) {
    const engine = new VlmEngine();
    await engine.load({ model: MODEL_ID, device: 'cpu', dtypes: path.dtypes, source: { kind: 'local', localModelPath: root } });
    await engine.generate(input, { noCache: true }); // warm-up: session initialisation, first allocations
    const runs = await repeat(opts.quick ? 1 : 3, async () => {
      const s = (await engine.generate(input, { noCache: true })).stats;
      return (s.totalMs - s.timeToFirstTokenMs) / Math.max(1, s.tokens - 1);
    });
    await engine.unload();
    const bytes = decoderBytes(root, path.dtypes);
    const msPerToken = median(runs);
    const floorMs = (bytes.generated / bandwidth) * 1000;
    rows[path.name] = {
      msPerToken: round(msPerToken, 2),
      floorMs: round(floorMs, 2),
      ratio: round(msPerToken / floorMs, 2),
      decoderMB: round(bytes.generated / 1e6, 1),
      vsFp32: NaN,
    };
    opts.log(`${path.label}: ${msPerToken.toFixed(1)} ms/token (floor ${floorMs.toFixed(1)} ms, decoder ${(bytes.generated / 1e6).toFixed(0)} MB, hub ${(bytes.hub / 1e6).toFixed(0)} MB)`);
  }
  for (const r of Object.values(rows)) r.vsFp32 = round(r.msPerToken / rows.fp32!.msPerToken, 2);
  const figure = (k: 'msPerToken' | 'floorMs' | 'ratio' | 'vsFp32') => Object.fromEntries(Object.entries(rows).map(([n, r]) => [n, r[k]]));
  return {
    figures: {
      decode_ms_per_token_by_path: figure('msPerToken'),
      decode_vs_fp32_by_path: figure('vsFp32'),
      decode_floor_ms_by_path: figure('floorMs'),
      decode_floor_ratio_by_path: figure('ratio'),
      memory_bandwidth_gb_s: round(bandwidth / 1e9, 1),
    },
    runs: { dtypes: { rows, paths: DEVICE_PATHS, newTokens: tokens } },
  };
}
