import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/** The durations vitest keeps for a file, in milliseconds (TestModule.diagnostic()'s). */
export type FileDurations = Pick<ReturnType<TestModule['diagnostic']>, 'environmentSetupDuration' | 'setupDuration' | 'collectDuration' | 'duration'>;

/**
 * One test file's time: its environment, its setup files, importing it, and its tests and hooks (what a faster
 * test saves). Not vitest's `prepareDuration`: in browser mode that runs from the browser session's start, so it
 * holds the wait for every file before it in the same tab (each browser file read ~185 s that way).
 */
export function fileSeconds(d: FileDurations): number {
  return (d.environmentSetupDuration + d.setupDuration + d.collectDuration + d.duration) / 1000;
}

/** The `count` slowest files as table lines: seconds, project, path; slowest first. */
export function slowestLines(files: Array<{ seconds: number; project: string; path: string }>, count: number): string[] {
  return [...files]
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count)
    .map((f) => `${f.seconds.toFixed(1).padStart(7)} s  ${f.project.padEnd(8)} ${f.path}`);
}

/**
 * Prints the ten slowest test files at the end of a run (after the default reporter's summary), so a test
 * that makes the suite slow is seen the day it arrives. Files run in parallel, so the seconds add up to more
 * than the run's wall time.
 */
export default class SlowestFiles implements Reporter {
  private readonly count: number;

  /** Vitest passes the options given in the config (`['./test/slowest-files.ts', { count: 20 }]`). */
  constructor(options: { count?: number } = {}) {
    this.count = options.count ?? 10;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (modules.length < 2) return;
    const files = modules.map((m) => ({
      seconds: fileSeconds(m.diagnostic()),
      project: m.project.name,
      path: relative(process.cwd(), m.moduleId),
    }));
    const total = files.reduce((s, f) => s + f.seconds, 0);
    const header = ` Slowest test files (of ${files.length}, ${total.toFixed(0)} s in all):`;
    process.stdout.write(`\n${[header, ...slowestLines(files, this.count)].join('\n')}\n`);
  }
}
