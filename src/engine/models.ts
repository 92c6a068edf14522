/**
 * The models Glimpse can run locally. Data, not code: adding a SmolVLM-family checkpoint that has the
 * transformers.js ONNX layout (onnx/vision_encoder, onnx/embed_tokens, onnx/decoder_model_merged) is one entry,
 * plus its file sizes in downloads.ts (the page says how much the first download is on this device).
 */
export interface ModelInfo {
  /** Hub id, also the folder name under a local or self-hosted model root. */
  id: string;
  label: string;
  /** config.json model_type: 'idefics3' (SmolVLM) or 'smolvlm' (SmolVLM2). */
  modelType: 'idefics3' | 'smolvlm';
  description: string;
  /** The longest prompt plus answer the model reads, in tokens (config.json text_config.max_position_embeddings). */
  contextTokens: number;
  /**
   * No test has run this checkpoint's own hub files (only SmolVLM-256M's are here to build the test model
   * from): the list says so, so nobody takes it for a path that is known to work.
   */
  untested?: true;
}

export const MODELS: readonly ModelInfo[] = [
  {
    id: 'HuggingFaceTB/SmolVLM-256M-Instruct',
    label: 'SmolVLM 256M',
    modelType: 'idefics3',
    description: 'Smallest and fastest; good for describing photos.',
    contextTokens: 8192,
  },
  {
    id: 'HuggingFaceTB/SmolVLM-500M-Instruct',
    label: 'SmolVLM 500M',
    modelType: 'idefics3',
    description: 'Better answers; a bigger download and about twice the memory.',
    contextTokens: 8192,
  },
  {
    id: 'HuggingFaceTB/SmolVLM2-256M-Video-Instruct',
    label: 'SmolVLM2 256M',
    modelType: 'smolvlm',
    description: 'Newer 256M checkpoint.',
    contextTokens: 8192,
    untested: true,
  },
  {
    id: 'HuggingFaceTB/SmolVLM2-500M-Video-Instruct',
    label: 'SmolVLM2 500M',
    modelType: 'smolvlm',
    description: 'Newer 500M checkpoint.',
    contextTokens: 8192,
    untested: true,
  },
];

export const DEFAULT_MODEL_ID = MODELS[0]!.id;

export function findModel(id: string): ModelInfo | undefined {
  return MODELS.find((m) => m.id === id);
}
