/**
 * Image features: the vision encoder's output for one picture, kept with the picture so the encoder never
 * runs twice for it (after a chat switch, a reload or a server restart). Recomputable: losing them only costs
 * time, so a store may drop them (export/import does) and a backend ignores any that do not fit exactly.
 */
export interface ImageFeatures {
  /** Which encoder made them (model, vision dtype, image detail): features made by another are never fed. */
  key: string;
  /** The processor's tile grid for this picture at this detail (0 × 0: one global frame). */
  rows: number;
  cols: number;
  /** [frames, tokens per frame, hidden]. */
  dims: number[];
  data: Float32Array;
}

/** Where the chat service keeps features, next to the pictures (IndexedDB in the page, files for the REST API). */
export interface ImageFeatureStore {
  /** Every feature set kept for a picture (any encoder); [] when there are none or the picture is gone. */
  featuresOf(hash: string): Promise<ImageFeatures[]>;
  /** Keeps a feature set with its picture, replacing one of the same key; nothing when the picture is gone. */
  keepFeatures(hash: string, features: ImageFeatures): Promise<void>;
}

/** At most this many feature sets per picture (one per encoder and detail the user tried). */
export const MAX_FEATURE_SETS = 4;

/** The picture's sets with `f` added (replacing one of the same key), oldest dropped past the limit. */
export function withFeatures(existing: readonly ImageFeatures[], f: ImageFeatures): ImageFeatures[] {
  return [...existing.filter((e) => e.key !== f.key), f].slice(-MAX_FEATURE_SETS);
}
