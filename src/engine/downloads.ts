import { UnknownModelError } from '../errors';
import { chooseDtypes, expectedOnnxFiles } from './device';
import type { DeviceChoice, DtypeMap } from './protocol';

/**
 * How many bytes a model's first download is, per dtype choice, before anything is downloaded.
 *
 * SmolVLM-256M-Instruct's sizes are exact: every ONNX file the hub offers and the JSON files, byte for byte as
 * published (test/unit/engine/downloads.test.ts checks this table against
 * test/fixtures/hub/SmolVLM-256M-Instruct/). The other checkpoints have no listing here, so their sizes are
 * estimates (`exact: false`, the UI says "about"): the 256M file for the same dtype, scaled by how many
 * parameters that file holds in the bigger model (the ratios below, from the public configs).
 */

/** The JSON files transformers.js fetches for a SmolVLM model (the same list as a model folder needs). */
export const MODEL_JSON_FILES = [
  'config.json',
  'generation_config.json',
  'preprocessor_config.json',
  'processor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
] as const;

/** HuggingFaceTB/SmolVLM-256M-Instruct on the hub: every file's size in bytes. */
export const SMOLVLM_256M_FILES: Readonly<Record<string, number>> = {
  'onnx/decoder_model_merged.onnx': 540640302,
  'onnx/decoder_model_merged_bnb4.onnx': 78154897,
  'onnx/decoder_model_merged_fp16.onnx': 270414183,
  'onnx/decoder_model_merged_int8.onnx': 137221530,
  'onnx/decoder_model_merged_q4.onnx': 86562901,
  'onnx/decoder_model_merged_q4f16.onnx': 77034560,
  'onnx/decoder_model_merged_quantized.onnx': 137221644,
  'onnx/decoder_model_merged_uint8.onnx': 137221644,
  'onnx/embed_tokens.onnx': 113541419,
  'onnx/embed_tokens_bnb4.onnx': 113541438,
  'onnx/embed_tokens_fp16.onnx': 56770946,
  'onnx/embed_tokens_int8.onnx': 28385824,
  'onnx/embed_tokens_q4.onnx': 113541438,
  'onnx/embed_tokens_q4f16.onnx': 56770965,
  'onnx/embed_tokens_quantized.onnx': 28385824,
  'onnx/embed_tokens_uint8.onnx': 28385824,
  'onnx/vision_encoder.onnx': 374316497,
  'onnx/vision_encoder_bnb4.onnx': 58034739,
  'onnx/vision_encoder_fp16.onnx': 187294693,
  'onnx/vision_encoder_int8.onnx': 94247927,
  'onnx/vision_encoder_q4.onnx': 63784987,
  'onnx/vision_encoder_q4f16.onnx': 55037584,
  'onnx/vision_encoder_quantized.onnx': 94247969,
  'onnx/vision_encoder_uint8.onnx': 94247969,
  'config.json': 7353,
  'generation_config.json': 136,
  'preprocessor_config.json': 486,
  'processor_config.json': 68,
  'tokenizer.json': 3548256,
  'tokenizer_config.json': 28249,
};

type Scale = Record<keyof DtypeMap, number>;

/**
 * Parameters per ONNX file, 500M ÷ 256M. Vision: the same SigLIP base/16-512 (86.4M) with a wider connector
 * (768·16 → 960 instead of → 576): 98.2M / 93.5M. Embeddings: 49,280 × 960 / 49,280 × 576. Decoder:
 * SmolLM2-360M (32 layers, hidden 960, MLP 2560, 15 heads, 5 KV heads) with its lm_head, 361.9M, over
 * SmolLM2-135M's 134.6M (30 layers, 576, 1536, 9 and 3 heads).
 */
export const SCALE_500M: Scale = { vision_encoder: 1.05, embed_tokens: 960 / 576, decoder_model_merged: 2.69 };
/** A SmolVLM2 checkpoint of the same size: the same shapes, but a different export, so still an estimate. */
const SCALE_SAME: Scale = { vision_encoder: 1, embed_tokens: 1, decoder_model_merged: 1 };

interface ModelFiles {
  exact: boolean;
  /** Bytes of an ONNX file (by path) and of each file of MODEL_JSON_FILES. */
  size(file: string): number | undefined;
}

const exactly = (table: Readonly<Record<string, number>>): ModelFiles => ({ exact: true, size: (file) => table[file] });

function estimated(from: Readonly<Record<string, number>>, scale: Scale): ModelFiles {
  return {
    exact: false,
    size(file) {
      const bytes = from[file];
      const part = (Object.keys(scale) as (keyof Scale)[]).find((k) => file.startsWith(`onnx/${k}`));
      return bytes === undefined ? undefined : Math.round(bytes * (part ? scale[part] : 1));
    },
  };
}

const DOWNLOADS: Readonly<Record<string, ModelFiles>> = {
  'HuggingFaceTB/SmolVLM-256M-Instruct': exactly(SMOLVLM_256M_FILES),
  'HuggingFaceTB/SmolVLM-500M-Instruct': estimated(SMOLVLM_256M_FILES, SCALE_500M),
  'HuggingFaceTB/SmolVLM2-256M-Video-Instruct': estimated(SMOLVLM_256M_FILES, SCALE_SAME),
  'HuggingFaceTB/SmolVLM2-500M-Video-Instruct': estimated(SMOLVLM_256M_FILES, SCALE_500M),
};

export interface DownloadSize {
  /** Every file transformers.js downloads for this model and dtype choice: the ONNX files and the JSON files. */
  bytes: number;
  /** The ONNX files alone (what the hub's file list adds up to). */
  onnxBytes: number;
  /** False for an estimate (a model with no file listing here). */
  exact: boolean;
  files: { file: string; bytes: number }[];
}

/** What loading `modelId` with `dtypes` downloads; null for a model this module does not know (a local folder). */
export function downloadSize(modelId: string, dtypes: DtypeMap): DownloadSize | null {
  const model = DOWNLOADS[modelId];
  if (!model) return null;
  const onnx = expectedOnnxFiles(dtypes);
  const files = [...onnx, ...MODEL_JSON_FILES].map((file) => {
    const bytes = model.size(file);
    if (bytes === undefined) throw new UnknownModelError(`No size is known for ${modelId} ${file}.`, { model: modelId, file });
    return { file, bytes };
  });
  const sum = (list: { bytes: number }[]) => list.reduce((a, f) => a + f.bytes, 0);
  return { bytes: sum(files), onnxBytes: sum(files.slice(0, onnx.length)), exact: model.exact, files };
}

/** The first download of `modelId` on a device (its dtypes as chooseDtypes picks them); null if either is unknown. */
export function firstDownload(
  modelId: string,
  choice: Pick<DeviceChoice, 'device' | 'shaderF16'> | null | undefined,
): DownloadSize | null {
  return choice ? downloadSize(modelId, chooseDtypes(choice)) : null;
}
