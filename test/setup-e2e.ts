import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  interface ProvidedContext {
    /** A folder for this e2e run's shared files: the default `vite build` (test/e2e/helpers.ts). */
    e2eRunDir: string;
  }
}

/**
 * The e2e project's run folder: the first file that needs the plain built app builds it there, and the
 * others serve the same files (each file still gets its own server, browser and temp folder). Removed at the end.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-e2e-'));
  project.provide('e2eRunDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
