import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chooseDtypes, DTYPE_SUFFIX } from '../../../src/engine/device';
import { downloadSize, firstDownload, MODEL_JSON_FILES, SCALE_500M, SMOLVLM_256M_FILES } from '../../../src/engine/downloads';
import { MODELS } from '../../../src/engine/models';
import type { Dtype, DtypeMap } from '../../../src/engine/protocol';

const HUB = resolve(import.meta.dirname, '../../fixtures/hub/SmolVLM-256M-Instruct');
const M256 = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const all = (d: Dtype): DtypeMap => ({ vision_encoder: d, embed_tokens: d, decoder_model_merged: d });
/** Decimal megabytes to one decimal, as the hub shows sizes. */
const mb = (bytes: number) => Number((bytes / 1e6).toFixed(1));
const JSON_BYTES = 3_584_548;

describe('the size table of SmolVLM-256M-Instruct', () => {
  it('has every ONNX file of the hub listing, byte for byte, and nothing else', () => {
    const rows = readFileSync(join(HUB, 'onnx-files.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    const listed = Object.fromEntries(rows.map(([file, bytes]) => [file!, Number(bytes)]));
    const table = Object.fromEntries(Object.entries(SMOLVLM_256M_FILES).filter(([f]) => f.startsWith('onnx/')));
    expect(table).toEqual(listed);
    expect(Object.keys(listed)).toHaveLength(24); // 3 files × 8 dtypes
  });

  it('has the JSON files transformers.js fetches, at their published sizes', () => {
    for (const file of MODEL_JSON_FILES) {
      const bytes = file === 'tokenizer.json' ? gunzipSync(readFileSync(join(HUB, 'tokenizer.json.gz'))).length : readFileSync(join(HUB, file)).length;
      expect(SMOLVLM_256M_FILES[file], file).toBe(bytes);
    }
    expect(SMOLVLM_256M_FILES['tokenizer.json']).toBe(3_548_256);
    expect(MODEL_JSON_FILES.reduce((a, f) => a + SMOLVLM_256M_FILES[f]!, 0)).toBe(JSON_BYTES);
  });
});

describe('downloadSize', () => {
  it('WebGPU with shader-f16: fp16 vision + fp16 embeddings + q4f16 decoder = 321.1 MB', () => {
    const d = downloadSize(M256, chooseDtypes({ device: 'webgpu', shaderF16: true }))!;
    expect(d.exact).toBe(true);
    expect(d.onnxBytes).toBe(187_294_693 + 56_770_946 + 77_034_560);
    expect(mb(d.onnxBytes)).toBe(321.1);
    expect(d.bytes).toBe(d.onnxBytes + JSON_BYTES);
    expect(mb(d.bytes)).toBe(324.7);
    expect(d.files.map((f) => f.file)).toEqual([
      'onnx/vision_encoder_fp16.onnx',
      'onnx/embed_tokens_fp16.onnx',
      'onnx/decoder_model_merged_q4f16.onnx',
      ...MODEL_JSON_FILES,
    ]);
    expect(d.files.reduce((a, f) => a + f.bytes, 0)).toBe(d.bytes);
  });

  it('WebGPU without shader-f16: fp32 vision + fp32 embeddings + q4 decoder = 574.4 MB', () => {
    const d = downloadSize(M256, chooseDtypes({ device: 'webgpu', shaderF16: false }))!;
    expect(d.onnxBytes).toBe(574_420_817);
    expect(mb(d.onnxBytes)).toBe(574.4);
  });

  it('WASM: q8 everywhere = 259.86 MB (the shared notes round it down to 259.8 by adding rounded file sizes)', () => {
    const d = downloadSize(M256, chooseDtypes({ device: 'wasm', shaderF16: false }))!;
    expect(d.onnxBytes).toBe(94_247_969 + 28_385_824 + 137_221_644);
    expect(d.onnxBytes / 1e6).toBeCloseTo(259.855, 3);
    expect(mb(94_247_969) + mb(28_385_824) + mb(137_221_644)).toBeCloseTo(259.8, 6);
  });

  it('the official demo (fp32 everywhere) = 1,028.5 MB; q4f16 everywhere = 188.8 MB', () => {
    expect(mb(downloadSize(M256, all('fp32'))!.onnxBytes)).toBe(1028.5);
    expect(mb(downloadSize(M256, chooseDtypes({ device: 'cpu', shaderF16: false }))!.onnxBytes)).toBe(1028.5);
    expect(mb(downloadSize(M256, all('q4f16'))!.onnxBytes)).toBe(188.8);
  });

  it('knows every dtype of every file for every model in the list', () => {
    for (const model of MODELS) {
      for (const d of Object.keys(DTYPE_SUFFIX) as Dtype[]) {
        const size = downloadSize(model.id, all(d))!;
        expect(size.exact, model.id).toBe(model.id === M256);
        expect(size.files).toHaveLength(3 + MODEL_JSON_FILES.length);
        for (const f of size.files) expect(f.bytes, `${model.id} ${f.file}`).toBeGreaterThan(0);
      }
    }
  });

  it('estimates the 500M from the 256M files scaled per file, and a folder model is unknown', () => {
    const f16 = chooseDtypes({ device: 'webgpu', shaderF16: true });
    const small = downloadSize(M256, f16)!;
    const big = downloadSize('HuggingFaceTB/SmolVLM-500M-Instruct', f16)!;
    expect(big.exact).toBe(false);
    expect(big.files[0]!.bytes).toBe(Math.round(small.files[0]!.bytes * 1.05));
    expect(big.files[2]!.bytes).toBe(Math.round(small.files[2]!.bytes * 2.69));
    expect(big.files.slice(3)).toEqual(small.files.slice(3)); // the same configs and tokenizer
    expect(Math.round(big.onnxBytes / 1e6)).toBe(499);
    expect(downloadSize('local/my-model', f16)).toBeNull();
  });

  it('firstDownload follows the device choice, and says nothing before the device is known', () => {
    expect(firstDownload(M256, { device: 'wasm', shaderF16: false })?.onnxBytes).toBe(259_855_437);
    expect(firstDownload(M256, null)).toBeNull();
  });
});

/** Parameters per ONNX file from a config's shapes (biases and norms included where the graph has them). */
function params(text: { hidden: number; mlp: number; layers: number; heads: number; kvHeads: number; vocab: number }, vision = { hidden: 768, mlp: 3072, layers: 12, patch: 16, image: 512, scale: 4 }) {
  const head = text.hidden / text.heads;
  const decoderLayer = 2 * text.hidden * text.hidden + 2 * text.hidden * text.kvHeads * head + 3 * text.hidden * text.mlp + 2 * text.hidden;
  const v = vision.hidden;
  const visionLayer = 4 * v + 4 * (v * v + v) + (v * vision.mlp + vision.mlp) + (vision.mlp * v + v);
  return {
    vision_encoder:
      3 * vision.patch ** 2 * v + v + (vision.image / vision.patch) ** 2 * v + vision.layers * visionLayer + 2 * v + v * vision.scale ** 2 * text.hidden,
    embed_tokens: text.vocab * text.hidden,
    decoder_model_merged: text.layers * decoderLayer + text.hidden + text.vocab * text.hidden,
  };
}

describe('the estimate for the 500M checkpoints', () => {
  const config = JSON.parse(readFileSync(join(HUB, 'config.json'), 'utf8')) as {
    text_config: { hidden_size: number; intermediate_size: number; num_hidden_layers: number; num_attention_heads: number; num_key_value_heads: number; vocab_size: number };
  };
  const t = config.text_config;
  const p256 = params({ hidden: t.hidden_size, mlp: t.intermediate_size, layers: t.num_hidden_layers, heads: t.num_attention_heads, kvHeads: t.num_key_value_heads, vocab: t.vocab_size });
  // SmolLM2-360M's published shapes, SmolVLM-500M's text model.
  const p500 = params({ hidden: 960, mlp: 2560, layers: 32, heads: 15, kvHeads: 5, vocab: 49_280 });

  it('counts parameters the way the 256M files weigh them (fp32 file ≈ 4 bytes a parameter, within 0.5%)', () => {
    for (const k of ['vision_encoder', 'embed_tokens', 'decoder_model_merged'] as const) {
      const fp32 = SMOLVLM_256M_FILES[`onnx/${k}.onnx`]!;
      expect(Math.abs(fp32 / (4 * p256[k]) - 1), k).toBeLessThan(0.005);
    }
  });

  it('scales each file by its parameter ratio', () => {
    for (const k of ['vision_encoder', 'embed_tokens', 'decoder_model_merged'] as const) {
      expect(SCALE_500M[k], k).toBeCloseTo(p500[k] / p256[k], 2);
    }
  });
});
