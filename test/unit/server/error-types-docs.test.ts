/**
 * docs/rest-api.md lists every error `type` the REST API can answer with: each one written in the servers'
 * sources (src/server, the shared src/http and src/node) must be in the Errors section's table of types.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('docs/rest-api.md: the error types', () => {
  it('names every type the servers answer with', () => {
    const types = new Set<string>();
    for (const file of ['src/server', 'src/http', 'src/node'].flatMap(sources)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\btype: '([a-z_]+)'/g)) types.add(m[1]!);
    }
    expect(types).toContain('upstream_error');
    const docs = readFileSync('docs/rest-api.md', 'utf8');
    const section = docs.slice(docs.indexOf('### Errors'), docs.indexOf('### Rate limits'));
    const listed = new Set([...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!));
    expect([...types].filter((t) => !listed.has(t))).toEqual([]);
  });
});
