/**
 * The ONNX files the REST API's local engine loads (GLIMPSE_DTYPE). Each name is a whole dtype choice for the
 * three files; docs/engine.md has the figures each was measured at and why the default is the default.
 */
import type { DtypeMap } from '../engine/protocol';

export const API_DTYPES = {
  /** fp32 everywhere: the reference, the largest download and the slowest decode. */
  fp32: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' },
  /** q8 everywhere (the WASM files): per-tensor activation quantization, so a cached turn can differ from a fresh one. */
  q8: { vision_encoder: 'q8', embed_tokens: 'q8', decoder_model_merged: 'q8' },
  /** 4-bit decoder (float activations), 8-bit vision encoder and embedding table. */
  q4: { vision_encoder: 'q8', embed_tokens: 'q8', decoder_model_merged: 'q4' },
  /** 4-bit decoder with fp32 vision encoder and embeddings (the WebGPU-without-f16 files). */
  'q4-fp32': { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'q4' },
} as const satisfies Record<string, DtypeMap>;

export type ApiDtype = keyof typeof API_DTYPES;

export const DEFAULT_API_DTYPE: ApiDtype = 'q4';

export function isApiDtype(value: string): value is ApiDtype {
  return Object.hasOwn(API_DTYPES, value);
}

/** A copy of a choice's dtype map (transformers.js is handed its own object). */
export function dtypesFor(dtype: ApiDtype): DtypeMap {
  return { ...API_DTYPES[dtype] };
}
