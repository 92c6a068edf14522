/**
 * The models Glimpse can run locally. Data, not code: adding a SmolVLM-family checkpoint that has the
 * transformers.js ONNX layout (onnx/vision_encoder, onnx/embed_tokens, onnx/decoder_model_merged) is one entry.
 */
export interface ModelInfo {
  /** Hub id, also the folder name under a local or self-hosted model root. */
  id: string;
  label: string;
  /** config.json model_type: 'idefics3' (SmolVLM) or 'smolvlm' (SmolVLM2). */
  modelType: 'idefics3' | 'smolvlm';
  /** Approximate download for the WebGPU files, for the UI before the first download. */
  approxDownloadMB: { webgpu: number; wasm: number };
  description: string;
}

export const MODELS: readonly ModelInfo[] = [
  {
    id: 'HuggingFaceTB/SmolVLM-256M-Instruct',
    label: 'SmolVLM 256M',
    modelType: 'idefics3',
    approxDownloadMB: { webgpu: 290, wasm: 260 },
    description: 'Smallest and fastest; good for describing photos.',
  },
  {
    id: 'HuggingFaceTB/SmolVLM-500M-Instruct',
    label: 'SmolVLM 500M',
    modelType: 'idefics3',
    approxDownloadMB: { webgpu: 560, wasm: 510 },
    description: 'Better answers, about twice the download and memory.',
  },
  {
    id: 'HuggingFaceTB/SmolVLM2-256M-Video-Instruct',
    label: 'SmolVLM2 256M',
    modelType: 'smolvlm',
    approxDownloadMB: { webgpu: 290, wasm: 260 },
    description: 'Newer 256M checkpoint.',
  },
  {
    id: 'HuggingFaceTB/SmolVLM2-500M-Video-Instruct',
    label: 'SmolVLM2 500M',
    modelType: 'smolvlm',
    approxDownloadMB: { webgpu: 560, wasm: 510 },
    description: 'Newer 500M checkpoint.',
  },
];

export const DEFAULT_MODEL_ID = MODELS[0]!.id;

export function findModel(id: string): ModelInfo | undefined {
  return MODELS.find((m) => m.id === id);
}
