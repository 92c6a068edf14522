import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findCycles, importGraph, roomGraph } from '../../import-graph';

describe('the import graph of src/', () => {
  const graph = importGraph('src');

  it('reads every source file', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('storage/sessions.ts')).toContain('storage/db.ts');
  });

  it('has no file in an import loop', () => {
    // Listed on failure, one loop a line: the files to untie.
    expect(findCycles(graph).map((c) => c.join(' → '))).toEqual([]);
  });

  it('has rooms (the folders under src/) that depend one way', () => {
    expect(findCycles(roomGraph(graph)).map((c) => c.join(' → '))).toEqual([]);
  });
});

describe('the loop finder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-imports-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  it('sees static, type-only, re-exported and dynamic imports, and lists each loop once', () => {
    write('a/one.ts', "import { two } from './two';\nexport const one = two;\n");
    write('a/two.ts', "import type { Three } from '../b/three.ts';\nexport const two = 2;\nexport type T = Three;\n");
    write('b/three.ts', "export type { One } from './four';\nexport type Three = 3;\n");
    write('b/four.ts', "export const load = () => import('../a/one.js');\nexport type One = 1;\n");
    write('c/alone.ts', "import pg from 'pg';\nimport url from './x.wasm?url';\nexport { pg, url };\n");
    write('d/self.ts', "export * from './self';\n");
    const g = importGraph(dir);
    expect(g.get('c/alone.ts')).toEqual([]);
    expect(findCycles(g)).toEqual([
      ['a/one.ts', 'a/two.ts', 'b/three.ts', 'b/four.ts', 'a/one.ts'],
      ['d/self.ts', 'd/self.ts'],
    ]);
    expect(findCycles(roomGraph(g))).toEqual([['a', 'b', 'a']]);
  });

  it('finds nothing in a graph that depends one way', () => {
    const g = new Map([
      ['x.ts', ['y.ts', 'z.ts']],
      ['y.ts', ['z.ts']],
      ['z.ts', []],
    ]);
    expect(findCycles(g)).toEqual([]);
  });
});
