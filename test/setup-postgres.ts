import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { stopCluster } from './fixtures/postgres-cluster';

/**
 * The unit project's PostgreSQL: a run folder now, the cluster only when a test first asks for it
 * (test/fixtures/postgres.ts), so runs without PostgreSQL tests pay nothing. Stopped and removed at the end.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-pg-'));
  project.provide('pgRunDir', dir);
  return () => {
    try {
      stopCluster(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
