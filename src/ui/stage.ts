import type { EngineStatus } from '../engine/protocol';
import { percent } from './format';

/**
 * What an answer is waiting for, in words: the download, the model starting, the GPU's one-time warm-up,
 * the picture being read (its image tokens, then which frame the vision encoder reads), then writing. Null when nothing is happening.
 */
/** The model's files are still coming (not only the model starting from files already here). */
export function isDownloading(status: EngineStatus | undefined): boolean {
  const p = status?.state === 'loading' ? status.progress : null;
  return !!p && p.total > 0 && !p.files.every((f) => f.done);
}

export function stageText(status: EngineStatus | undefined, imageTokens: number | null = null): string | null {
  switch (status?.state) {
    case 'loading': {
      const p = status.progress;
      const downloading = p && p.total > 0 && !p.files.every((f) => f.done);
      return downloading ? `Downloading the model · ${percent(p.loaded, p.total)}%` : 'Starting the model';
    }
    case 'restarting':
      return 'Restarting the engine';
    case 'generating':
      switch (status.stage) {
        case 'warmup':
          return 'Preparing the GPU — first time only';
        case 'image': {
          const v = status.vision;
          if (v && v.frames > 1) return `Reading the image · frame ${v.frame} of ${v.frames}`;
          return imageTokens ? `Reading the image — ${imageTokens.toLocaleString('en')} tokens` : 'Reading the image';
        }
        case 'writing':
          return 'Writing';
        default:
          return 'Reading the conversation';
      }
    default:
      return null;
  }
}

/** "12 s", "2 min 5 s": how long a wait has lasted. */
export function elapsedText(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
