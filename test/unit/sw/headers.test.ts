import { describe, expect, it } from 'vitest';
import { ISOLATION_HEADERS, withIsolation } from '../../../src/sw/headers';

describe('withIsolation', () => {
  it('adds COOP same-origin and COEP credentialless, keeping status, body and the other headers', async () => {
    const r = withIsolation(new Response('<p>hi</p>', { status: 200, statusText: 'OK', headers: { 'Content-Type': 'text/html', ETag: '"x"' } }));
    expect(r.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
    expect(r.headers.get('Cross-Origin-Embedder-Policy')).toBe('credentialless');
    expect(r.headers.get('Content-Type')).toBe('text/html');
    expect(r.headers.get('ETag')).toBe('"x"');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('<p>hi</p>');
  });

  it('keeps the policy a host sets itself', () => {
    const r = withIsolation(new Response('', { headers: { 'Cross-Origin-Embedder-Policy': 'require-corp' } }));
    expect(r.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp');
    expect(r.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
  });

  it('passes a response that already has both on unchanged, and an error (opaque-like) response as it is', () => {
    const both = new Response('', { headers: ISOLATION_HEADERS });
    expect(withIsolation(both)).toBe(both);
    const error = Response.error();
    expect(withIsolation(error)).toBe(error);
  });

  it('rewrites a 404 too (a missing page keeps its status)', () => {
    const r = withIsolation(new Response('Not found', { status: 404 }));
    expect(r.status).toBe(404);
    expect(r.headers.get('Cross-Origin-Embedder-Policy')).toBe('credentialless');
  });
});
