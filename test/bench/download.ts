/**
 * download_mb_*: what a first visit downloads for SmolVLM-256M-Instruct on each device path, in decimal MB
 * (as the hub shows sizes): the three ONNX files for the path's dtypes plus the configs and the tokenizer.
 * Computed from the hub's file sizes (src/engine/downloads.ts); needs no model and no browser.
 * The app's three paths come from chooseDtypes; the official demo's fp32 and q4f16 everywhere are for comparison.
 */
import { chooseDtypes } from '../../src/engine/device';
import { downloadSize } from '../../src/engine/downloads';
import { DEFAULT_MODEL_ID } from '../../src/engine/models';
import type { Dtype, DtypeMap } from '../../src/engine/protocol';
import type { GroupOptions, GroupResult } from './common';

export interface DownloadRow {
  key: string;
  path: string;
  dtypes: DtypeMap;
  onnxMB: number;
  totalMB: number;
}

const all = (d: Dtype): DtypeMap => ({ vision_encoder: d, embed_tokens: d, decoder_model_merged: d });

export const DOWNLOAD_PATHS: readonly { key: string; path: string; dtypes: DtypeMap }[] = [
  { key: 'webgpu_f16', path: 'WebGPU + shader-f16 (app)', dtypes: chooseDtypes({ device: 'webgpu', shaderF16: true }) },
  { key: 'webgpu_no_f16', path: 'WebGPU without f16 (app)', dtypes: chooseDtypes({ device: 'webgpu', shaderF16: false }) },
  { key: 'wasm', path: 'WASM (app)', dtypes: chooseDtypes({ device: 'wasm', shaderF16: false }) },
  { key: 'official_fp32', path: 'official demo, fp32 everywhere', dtypes: all('fp32') },
  { key: 'q4f16_all', path: 'q4f16 everywhere', dtypes: all('q4f16') },
];

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

export function downloadRows(model: string = DEFAULT_MODEL_ID): DownloadRow[] {
  return DOWNLOAD_PATHS.map(({ key, path, dtypes }) => {
    const size = downloadSize(model, dtypes);
    if (!size) throw new Error(`no file sizes for ${model}`);
    return { key, path, dtypes, onnxMB: mb(size.onnxBytes), totalMB: mb(size.bytes) };
  });
}

export function runDownload(opts: GroupOptions): Promise<GroupResult> {
  const rows = downloadRows();
  opts.log(`download: ${rows.map((r) => `${r.key} ${r.totalMB} MB`).join(', ')}`);
  return Promise.resolve({
    figures: Object.fromEntries(rows.map((r) => [`download_mb_${r.key}`, r.totalMB])),
    runs: { download: { model: DEFAULT_MODEL_ID, unit: 'MB (10^6 bytes)', rows } },
  });
}
