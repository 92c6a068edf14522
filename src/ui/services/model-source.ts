import type { ModelSource } from '../../engine/protocol';
import { resolveModelSource } from '../../engine/source';

/**
 * The model source for the Settings value, never throwing: a host that is not a valid URL or path falls
 * back to the default (the build's VITE_MODEL_HOST or Hugging Face) and says why, so a typo cannot stop
 * the app from starting.
 */
export function modelSourceFor(setting: string): { source: ModelSource; error: string | null } {
  try {
    return { source: resolveModelSource(setting), error: null };
  } catch {
    return {
      source: resolveModelSource(''),
      error: `“${setting.slice(0, 80)}” is not a URL or a path, so Glimpse uses the default host.`,
    };
  }
}
