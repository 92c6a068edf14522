/**
 * The import graph of src/: every file and the files it imports (static, type-only, re-exports and dynamic
 * `import()` alike: each is a dependency a reader has to follow), and its loops. Read with TypeScript's own
 * scanner (`ts.preProcessFile`), so no extra package is needed and the imports are the compiler's, not a regex's.
 *
 * `npx tsx test/import-graph.ts [DIR]` prints the loops of DIR (default src) and exits 1 when there is one;
 * test/unit/architecture/imports.test.ts fails on them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** File (relative to the root, with `/`) → the files it imports, relative likewise. */
export type ImportGraph = Map<string, string[]>;

const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return SOURCE.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative specifier names (`./x`, `./x.ts`, `./x.js`, `./dir` → index), or null (a package, an asset). */
function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier.replace(/[?#].*$/, ''));
  const stem = base.replace(/\.(js|mjs)$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, join(base, 'index.ts'), join(base, 'index.js')];
  return candidates.find((c) => SOURCE.test(c) && existsSync(c) && statSync(c).isFile()) ?? null;
}

/** The import graph of the source files under `root` (imports that leave `root` are left out). */
export function importGraph(root: string): ImportGraph {
  const abs = resolve(root);
  const name = (p: string) => relative(abs, p).split('\\').join('/');
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(abs)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const deps = info.importedFiles
      .map((f) => resolveSpecifier(file, f.fileName))
      .filter((p): p is string => p !== null && p.startsWith(abs))
      .map(name);
    graph.set(name(file), [...new Set(deps)].sort());
  }
  return graph;
}

/**
 * The loops of a graph: each strongly connected component of more than one file (or a file importing
 * itself), as one concrete cycle through its files (`a → b → a`), sorted so the output is stable.
 */
export function findCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative so a deep graph cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; i: number }> = [{ node: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const deps = graph.get(top.node) ?? [];
      if (top.i < deps.length) {
        const dep = deps[top.i++]!;
        if (!index.has(dep)) {
          index.set(dep, next);
          low.set(dep, next++);
          stack.push(dep);
          onStack.add(dep);
          work.push({ node: dep, i: 0 });
        } else if (onStack.has(dep)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(dep)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== top.node);
        const selfLoop = (graph.get(top.node) ?? []).includes(top.node);
        if (component.length > 1 || selfLoop) components.push(component.sort());
      }
    }
  }
  return components.map((c) => cycleThrough(graph, c)).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One cycle inside a strongly connected component, from its first file back to it (breadth-first: a shortest one). */
function cycleThrough(graph: ImportGraph, component: string[]): string[] {
  const members = new Set(component);
  const start = component[0]!;
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const dep of graph.get(node) ?? []) {
      if (!members.has(dep)) continue;
      if (dep === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(from.get(path[0]!)!);
        return [...path, start];
      }
      if (!from.has(dep)) {
        from.set(dep, node);
        queue.push(dep);
      }
    }
  }
  return [start, start];
}

/** The folders directly under the root ("rooms"; a top-level file is its own room) and which import which. */
export function roomGraph(graph: ImportGraph): ImportGraph {
  const room = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file);
  const rooms: ImportGraph = new Map();
  for (const [file, deps] of graph) {
    const r = room(file);
    const set = new Set(rooms.get(r) ?? []);
    for (const d of deps) if (room(d) !== r) set.add(room(d));
    rooms.set(r, [...set].sort());
  }
  return rooms;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? 'src';
  const graph = importGraph(root);
  const cycles = findCycles(graph);
  const roomCycles = findCycles(roomGraph(graph));
  for (const c of cycles) console.log(`file loop: ${c.join(' → ')}`);
  for (const c of roomCycles) console.log(`room loop: ${c.join(' → ')}`);
  console.log(`${graph.size} files, ${cycles.length} file loop(s), ${roomCycles.length} room loop(s) in ${root}/`);
  process.exitCode = cycles.length + roomCycles.length > 0 ? 1 : 0;
}
