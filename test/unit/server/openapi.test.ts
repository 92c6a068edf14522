/**
 * Both servers document themselves: an OpenAPI 3.1 document at GET /openapi.json and a page at GET /docs, made from
 * the schemas the handlers use. The document is checked for OpenAPI 3.1's structure, for naming every route the
 * server has, and each documented shape against the handlers' real answers: success and every error the test can
 * cause, on the REST API (echo backend, no socket) and the proxy (real HTTP, the fake OpenAI behind it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSchemaOf, type DocOperation } from '../../../src/http/openapi';
import { createProxyHandler } from '../../../src/proxy/handler';
import { proxyOperations } from '../../../src/proxy/openapi';
import { loadApiConfig } from '../../../src/server/config';
import { apiOperations } from '../../../src/server/openapi';
import { pngHeaderClaiming } from '../../fixtures/images';
import { startStack, type Stack } from '../proxy/stack';
import { apiFetch, type ApiFetch } from './api-app';

type Doc = { openapi: string; info: Record<string, unknown>; paths: Record<string, Record<string, Op>> };
type Op = { operationId: string; requestBody?: unknown; parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }> };

const root = mkdtempSync(join(tmpdir(), 'glimpse-openapi-'));
let api: ApiFetch;
let limited: ApiFetch;
let stack: Stack;
let apiOps: DocOperation[];

beforeAll(async () => {
  const config = loadApiConfig({ DATA_DIR: join(root, 'a'), GLIMPSE_MAX_UPLOAD_BYTES: '65536' });
  api = await apiFetch(config);
  limited = await apiFetch(loadApiConfig({ DATA_DIR: join(root, 'b'), GLIMPSE_RATE_PER_CLIENT: '1' }));
  apiOps = apiOperations({ maxMessageChars: 8000, maxImageBytes: config.maxUploadBytes, metrics: false });
  stack = await startStack();
});

afterAll(async () => {
  await api?.close();
  await limited?.close();
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

const callApi = (path: string, init?: RequestInit, via = api) => via(new Request(`http://127.0.0.1${path}`, init));
const callProxy = (path: string, init?: RequestInit) => fetch(`${stack.proxy.url}${path}`, init);

/**
 * Valid against OpenAPI 3.1's own JSON Schema (@seriousme/openapi-schema-validator, the specification's published
 * schema, schemas as 2020-12), then the essentials it cannot see: path templates and their parameters, unique ids.
 */
async function checkStructure(doc: Doc): Promise<void> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
  expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
  expect(doc.openapi).toBe('3.1.0');
  expect(typeof doc.info.title).toBe('string');
  expect(typeof doc.info.version).toBe('string');
  const ids = new Set<string>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    expect(path).toMatch(/^\//);
    for (const [method, op] of Object.entries(methods)) {
      expect(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']).toContain(method);
      expect(ids.has(op.operationId), op.operationId).toBe(false);
      ids.add(op.operationId);
      // Each {template} in the path is a required path parameter, and no path parameter is not in the path.
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const inPath = (op.parameters ?? []).filter((p) => p.in === 'path');
      expect(inPath.map((p) => p.name).sort()).toEqual(templated.sort());
      expect(inPath.every((p) => p.required === true)).toBe(true);
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      for (const [status, r] of Object.entries(op.responses)) {
        expect(status).toMatch(/^[1-5]\d\d$/);
        expect(typeof r.description).toBe('string');
        for (const c of Object.values(r.content ?? {})) expect(typeof c.schema).toBe('object');
      }
    }
  }
  expect(JSON.stringify(doc)).not.toContain('"$ref"'); // nothing to resolve
}

/** The operation's documented answer for `status`: its schema, which the document must show as generated from it. */
function documented(doc: Doc, ops: DocOperation[], method: string, path: string, status: number) {
  const op = ops.find((o) => o.method === method && o.path === path);
  expect(op, `${method} ${path}`).toBeDefined();
  const inDoc = doc.paths[path]?.[method]?.responses[String(status)];
  expect(inDoc, `${method} ${path} ${status} is documented`).toBeDefined();
  const r = op!.responses[status];
  return { inDoc: inDoc!, schema: r?.schema };
}

async function checkAnswer(doc: Doc, ops: DocOperation[], method: string, path: string, res: Response): Promise<number> {
  const { inDoc, schema } = documented(doc, ops, method, path, res.status);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
  const content = inDoc.content?.[type];
  expect(content, `${method} ${path} ${res.status} as ${type}`).toBeDefined();
  if (type !== 'application/json') return res.status;
  const body: unknown = await res.json();
  if (schema && 'kind' in schema) {
    expect(content!.schema).toEqual(jsonSchemaOf(schema));
    const parsed = v.safeParse(schema as v.GenericSchema, body);
    expect(parsed.issues?.map((i) => `${i.message} at ${JSON.stringify(i.path?.map((p) => p.key))}`), `${method} ${path} ${res.status}`).toBeUndefined();
  } else if (inDoc.content?.['application/json']?.schema) {
    const common = doc.paths[path]![method]!.responses[String(res.status)]!;
    expect(common.content?.['application/json']).toBeDefined();
  }
  return res.status;
}

function form(fields: Record<string, string | Blob>): FormData {
  const f = new FormData();
  for (const [k, val] of Object.entries(fields)) {
    if (val instanceof Blob) f.append(k, val, 'upload');
    else f.append(k, val);
  }
  return f;
}

describe('GET /openapi.json and /docs', () => {
  it('the REST API: a valid OpenAPI 3.1 document naming every endpoint, and a page with no script or CDN', async () => {
    const res = await callApi('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    await checkStructure(doc);
    const index = (await (await callApi('/')).json()) as { endpoints: string[] };
    const listed = Object.entries(doc.paths).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m.toUpperCase()} ${p}`));
    expect(listed.sort()).toEqual([...index.endpoints, 'GET /'].sort());
    const page = await callApi('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    for (const p of Object.keys(doc.paths)) expect(html).toContain(`<code>${p}</code>`);
    expect(html).not.toMatch(/<script|\bsrc=|href="(https?:)?\/\//i);
  });

  it('the proxy: the same, with its request bodies the very schemas it validates with', async () => {
    const doc = (await (await callProxy('/openapi.json')).json()) as Doc;
    await checkStructure(doc);
    const notFound = (await (await callProxy('/nowhere')).json()) as { error: { message: string } };
    const endpoints = /Endpoints: (.*)\.$/.exec(notFound.error.message)![1]!.split(', ');
    const listed = Object.entries(doc.paths).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m.toUpperCase()} ${p}`));
    expect(listed.sort()).toEqual(endpoints.sort());
    const html = await (await callProxy('/docs')).text();
    expect(html).toContain('<code>/v1/chat/completions</code>');
    expect(html).not.toMatch(/<script|\bsrc=|href="(https?:)?\/\//i);
    // The body schema shown is the one validate.ts checks with, limits included.
    const body = doc.paths['/chat']!.post!.requestBody as { content: Record<string, { schema: { properties: Record<string, { maxLength?: number }> } }> };
    expect(body.content['application/json']!.schema.properties.message!.maxLength).toBe(stack.config.limits.maxMessageChars);
  });

  it('both: the same Host and Origin rules as every route', async () => {
    for (const path of ['/openapi.json', '/docs']) {
      expect((await callApi(path, { headers: { origin: 'http://evil.test' } })).status).toBe(403);
      expect((await api(new Request(`http://evil.test${path}`))).status).toBe(403);
      expect((await callProxy(path, { headers: { origin: 'http://evil.test' } })).status).toBe(403);
      expect((await createProxyHandler(stack.config)(new Request(`http://evil.test${path}`))).status).toBe(403);
    }
  });
});

describe('each documented shape is what the handlers answer', () => {
  it('the REST API: every endpoint’s success and the errors it answers', async () => {
    const doc = (await (await callApi('/openapi.json')).json()) as Doc;
    const check = (method: string, path: string, res: Response) => checkAnswer(doc, apiOps, method, path, res);
    const chat = await callApi('/chat', { method: 'POST', body: form({ message: 'Hello' }) });
    const { session_id: id } = (await chat.clone().json()) as { session_id: string };
    const seen: number[] = [
      await check('post', '/chat', chat),
      await check('get', '/chat/history/{session_id}', await callApi(`/chat/history/${id}`)),
      // The echo backend cannot go on from an answer: 409 CannotContinueError.
      await check('post', '/chat/sessions/{session_id}/continue', await callApi(`/chat/sessions/${id}/continue`, { method: 'POST' })),
      await check('get', '/chat/sessions', await callApi('/chat/sessions')),
      await check('delete', '/chat/history/{session_id}', await callApi(`/chat/history/${id}`, { method: 'DELETE' })),
      await check('delete', '/chat/sessions/{session_id}', await callApi(`/chat/sessions/${id}`, { method: 'DELETE' })),
      await check('get', '/health', await callApi('/health')),
      await check('get', '/', await callApi('/')),
      await check('get', '/openapi.json', await callApi('/openapi.json')),
      await check('get', '/docs', await callApi('/docs')),
      // Errors: the form, the session, the body, the image, the method, the origin, the rate limit.
      await check('post', '/chat', await callApi('/chat', { method: 'POST', body: form({ message: '  ' }) })),
      await check('post', '/chat', await callApi('/chat', { method: 'POST', body: form({ message: 'hi', session_id: 'nope' }) })),
      await check('post', '/chat', await callApi('/chat', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })),
      await check('post', '/chat', await callApi('/chat', { method: 'POST', body: form({ message: 'hi', image: new Blob(['%PDF-1.4']) }) })),
      await check('post', '/chat', await callApi('/chat', { method: 'POST', body: form({ message: 'hi', image: pngHeaderClaiming(20_000, 20_000) }) })),
      await check('post', '/chat', await callApi('/chat', { method: 'POST', body: form({ message: 'hi', image: new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16])]) }) })),
      await check('get', '/chat/history/{session_id}', await callApi('/chat/history/a%20b')),
      await check('get', '/chat/history/{session_id}', await callApi('/chat/history/nope')),
      await check('delete', '/chat/sessions/{session_id}', await callApi('/chat/sessions/nope', { method: 'DELETE' })),
      await check('get', '/chat/sessions', await callApi('/chat/sessions?limit=0')),
      await check('get', '/health', await callApi('/health', { method: 'DELETE' })),
      await check('get', '/chat/sessions', await callApi('/chat/sessions', { headers: { origin: 'http://evil.test' } })),
    ];
    await callApi('/chat/sessions', {}, limited);
    const doc2 = (await (await callApi('/openapi.json', {}, limited)).json()) as Doc;
    seen.push(await checkAnswer(doc2, apiOps, 'get', '/chat/sessions', await callApi('/chat/sessions', {}, limited)));
    expect([...new Set(seen)].sort(), String(seen)).toEqual([200, 400, 403, 404, 405, 409, 413, 415, 422, 429]);
  }, 60_000);

  it('the proxy: every endpoint’s success and the errors it answers, upstream failures included', async () => {
    const doc = (await (await callProxy('/openapi.json')).json()) as Doc;
    const ops = proxyOperations(stack.config, false);
    const check = (method: string, path: string, res: Response) => checkAnswer(doc, ops, method, path, res);
    const turn = { message: 'Hello' };
    const completion = { messages: [{ role: 'user', content: 'Hello' }] };
    const seen: number[] = [
      await check('get', '/health', await callProxy('/health')),
      await check('get', '/v1/models', await callProxy('/v1/models')),
      await check('post', '/chat', await stack.post('/chat', turn)),
      await check('post', '/chat/reset', await stack.post('/chat/reset', {})),
      await check('post', '/v1/chat/completions', await stack.post('/v1/chat/completions', completion)),
      await check('get', '/openapi.json', await callProxy('/openapi.json')),
      await check('get', '/docs', await callProxy('/docs')),
      await check('post', '/chat', await stack.post('/chat', { message: '' })),
      await check('post', '/chat', await stack.post('/chat', 'hi', { 'content-type': 'text/plain' })),
      await check('post', '/chat', await stack.post('/chat', { message: 'x'.repeat(stack.config.limits.maxBodyBytes + 10) })),
      await check('post', '/v1/chat/completions', await stack.post('/v1/chat/completions', { messages: [] })),
      await check('get', '/health', await callProxy('/health', { method: 'DELETE' })),
      await check('get', '/health', await callProxy('/health', { headers: { origin: 'http://evil.test' } })),
    ];
    stack.fake.script.push('server-error', 'server-error', 'server-error');
    seen.push(await check('post', '/chat', await stack.post('/chat', turn)));
    stack.fake.script.push('rate-limit', 'rate-limit', 'rate-limit');
    seen.push(await check('post', '/v1/chat/completions', await stack.post('/v1/chat/completions', completion)));
    stack.fake.script.push('stall', 'stall', 'stall');
    seen.push(await check('post', '/chat', await stack.post('/chat', turn)));
    expect([...new Set(seen)].sort()).toEqual([200, 400, 403, 405, 413, 415, 429, 502, 504]);
  }, 60_000);
});
