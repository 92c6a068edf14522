import { describe, expect, it } from 'vitest';
import { resolveModelSource } from '../../../src/engine/source';

describe('resolveModelSource', () => {
  it('defaults to the hub', () => {
    expect(resolveModelSource(null)).toEqual({ kind: 'hub' });
  });
  it('a relative host resolves against the page, so subpath hosting works', () => {
    expect(resolveModelSource('./models', 'https://example.org/tools/glimpse/index.html')).toEqual({
      kind: 'hub',
      remoteHost: 'https://example.org/tools/glimpse/models/',
      remotePathTemplate: '{model}/resolve/{revision}/',
    });
  });
  it('an absolute host is kept', () => {
    expect(resolveModelSource('http://127.0.0.1:9000/hub/', 'https://x.org/')).toMatchObject({ remoteHost: 'http://127.0.0.1:9000/hub/' });
  });
});
