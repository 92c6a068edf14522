import { env } from '@huggingface/transformers';
import type { ModelSource } from './protocol';

/** The four fields of transformers.js's global `env` a model source decides. */
export interface SourceEnv {
  allowLocalModels: boolean;
  allowRemoteModels: boolean;
  localModelPath: string;
  remoteHost: string;
  remotePathTemplate: string;
}

/** What `source` sets in transformers.js's `env`: the hub, a self-hosted copy with the hub's layout, or a local folder. */
export function sourceSettings(source: ModelSource): Partial<SourceEnv> {
  if (source.kind === 'local') {
    const path = source.localModelPath;
    return { allowLocalModels: true, allowRemoteModels: false, localModelPath: path.endsWith('/') ? path : `${path}/` };
  }
  return {
    allowLocalModels: false,
    allowRemoteModels: true,
    remoteHost: source.remoteHost ?? 'https://huggingface.co/',
    remotePathTemplate: source.remotePathTemplate ?? '{model}/resolve/{revision}/',
  };
}

/**
 * An applier for `target` that writes only the settings that differ from what it holds: `env` is global to
 * the worker (or the Node process), so it changes once per change of source, not on every load. It compares
 * with `env` itself rather than with the last source applied, so a write made elsewhere (a test fixture)
 * is noticed and corrected. Returns whether it wrote.
 */
export function sourceApplier(target: SourceEnv): (source: ModelSource) => boolean {
  return (source) => {
    const settings = sourceSettings(source);
    const stale = (Object.keys(settings) as (keyof SourceEnv)[]).filter((k) => target[k] !== settings[k]);
    if (stale.length === 0) return false;
    Object.assign(target, settings);
    return true;
  };
}

/** Points transformers.js at `source`, once per change of source (see {@link sourceApplier}). */
export const configureSource: (source: ModelSource) => boolean = sourceApplier(env);
