/**
 * An API that documents itself: each server describes its operations with the valibot schemas it validates
 * with (and its answers' schemas), and this module turns them into an OpenAPI 3.1 document at
 * `GET /openapi.json` and a readable reference at `GET /docs`, a self-contained HTML page rendered here from the
 * document (no script, no CDN). The routes sit behind the app's Host and Origin checks like every other.
 * Portable: no Node APIs.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { jsonResponse } from './errors';
import { route, type HttpApp } from './app';

export type JsonSchema = Record<string, unknown>;
type Schema = v.GenericSchema | JsonSchema;

export interface DocResponse {
  description: string;
  /** The body's schema; absent: no body. */
  schema?: Schema;
  /** Default application/json. */
  contentType?: string;
  /** Response headers worth knowing (Retry-After, X-Glimpse-…), name → description. */
  headers?: Record<string, string>;
}

export interface DocParameter {
  name: string;
  in: 'path' | 'query';
  description: string;
  required?: boolean;
  schema: Schema;
}

export interface DocOperation {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI form: /chat/history/{session_id}. */
  path: string;
  summary: string;
  description?: string;
  parameters?: DocParameter[];
  requestBody?: { description?: string; content: Record<string, Schema> };
  /** By status; every operation also documents the errors the app answers anywhere (403, 404, 405, 500). */
  responses: Record<number, DocResponse>;
}

export interface DocInfo {
  title: string;
  version: string;
  description: string;
}

/** The one JSON error shape of both servers (src/http/errors.ts). */
export const ErrorSchema = v.object({
  error: v.object({
    message: v.pipe(v.string(), v.description('For a person: what was wrong and what to do.')),
    type: v.pipe(v.string(), v.description('The class of error: invalid_request_error, permission_error, not_found_error…')),
    param: v.pipe(v.nullable(v.string()), v.description('The field at fault, or null.')),
    code: v.pipe(v.nullable(v.string()), v.description('The named error, e.g. EmptyMessageError.')),
  }),
});

const isValibot = (s: Schema): s is v.GenericSchema => (s as { kind?: unknown }).kind === 'schema' && '~standard' in s;

/** A valibot schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect); checks it cannot say (a regex on a blob) are left out. */
export function jsonSchemaOf(schema: Schema): JsonSchema {
  if (!isValibot(schema)) return schema;
  const { $schema: _dialect, ...rest } = toJsonSchema(schema, { target: 'draft-2020-12', errorMode: 'ignore' }) as JsonSchema;
  return rest;
}

/** Errors every route can answer: the app's Host/Origin checks, unknown paths and methods, a bug. */
export const COMMON_ERRORS: Record<number, DocResponse> = {
  403: { description: 'A `Host` or an `Origin` this server does not answer (HostNotAllowedError, OriginNotAllowedError).', schema: ErrorSchema },
  405: { description: 'Another method on this path (MethodNotAllowedError, with `Allow`).', schema: ErrorSchema },
  500: { description: 'A bug: see the server’s log (InternalError).', schema: ErrorSchema },
};

function responsesOf(op: DocOperation): Record<string, unknown> {
  const all = { ...COMMON_ERRORS, ...op.responses };
  return Object.fromEntries(Object.entries(all).map(([status, r]) => [status, {
    description: r.description,
    ...(r.headers ? { headers: Object.fromEntries(Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: jsonSchemaOf(v.string()) }])) } : {}),
    ...(r.schema ? { content: { [r.contentType ?? 'application/json']: { schema: jsonSchemaOf(r.schema) } } } : {}),
  }]));
}

/** The OpenAPI 3.1 document of `operations`. */
export function openApiDocument(info: DocInfo, operations: readonly DocOperation[]): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(op.parameters?.length ? { parameters: op.parameters.map((p) => ({ ...p, schema: jsonSchemaOf(p.schema) })) } : {}),
      ...(op.requestBody ? { requestBody: {
        required: true,
        ...(op.requestBody.description ? { description: op.requestBody.description } : {}),
        content: Object.fromEntries(Object.entries(op.requestBody.content).map(([type, s]) => [type, { schema: jsonSchemaOf(s) }])),
      } } : {}),
      responses: responsesOf(op),
    };
  }
  return { openapi: '3.1.0', info, paths };
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pretty = (x: unknown): string => `<pre>${escape(JSON.stringify(x, null, 2))}</pre>`;

function operationHtml(path: string, method: string, op: Record<string, unknown>): string {
  const id = escape(String(op.operationId));
  const params = (op.parameters as DocParameter[] | undefined) ?? [];
  const body = op.requestBody as { content: Record<string, { schema: unknown }> } | undefined;
  const responses = op.responses as Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
  return `<section id="${id}"><h2><span class="m ${escape(method)}">${escape(method.toUpperCase())}</span> <code>${escape(path)}</code></h2>
<p>${escape(String(op.summary))}</p>${op.description ? `<p>${escape(String(op.description))}</p>` : ''}
${params.length ? `<h3>Parameters</h3><ul>${params.map((p) => `<li><code>${escape(p.name)}</code> (${p.in}${p.required ? ', required' : ''}): ${escape(p.description)}</li>`).join('')}</ul>` : ''}
${body ? `<h3>Request body</h3>${Object.entries(body.content).map(([t, c]) => `<p><code>${escape(t)}</code></p>${pretty(c.schema)}`).join('')}` : ''}
<h3>Responses</h3>${Object.entries(responses).map(([status, r]) => `<details${status.startsWith('2') ? ' open' : ''}><summary><b>${escape(status)}</b> ${escape(r.description)}</summary>${
    Object.entries(r.content ?? {}).map(([t, c]) => `<p><code>${escape(t)}</code></p>${pretty(c.schema)}`).join('')}</details>`).join('')}
</section>`;
}

/** The document as one HTML page: every operation, its parameters, body and responses with their schemas. */
export function docsPage(doc: JsonSchema): string {
  const info = doc.info as DocInfo;
  const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
  const ops = Object.entries(paths).flatMap(([path, methods]) => Object.entries(methods).map(([m, op]) => ({ path, m, op })));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(info.title)}: API reference</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:0 auto;padding:1rem;color:#1b1b1f;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e6e6ea;background:#17171a}pre,code{background:#26262b}}
pre{overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;padding:.5rem;background:#f3f3f6;border-radius:6px;font-size:13px}code{background:#f3f3f6;padding:0 .2rem;border-radius:4px}
section{border-top:1px solid #8885;padding-top:.5rem}.m{display:inline-block;min-width:4.5rem;font-size:.8em;padding:.1rem .4rem;border-radius:4px;color:#fff;text-align:center}
.get{background:#1f6feb}.post{background:#1a7f37}.delete{background:#cf222e}summary{cursor:pointer}nav li{list-style:none}
</style></head><body><header><h1>${escape(info.title)} <small>${escape(info.version)}</small></h1><p>${escape(info.description)}</p>
<p>OpenAPI 3.1 document: <a href="openapi.json">openapi.json</a></p></header>
<nav aria-label="Operations"><ul>${ops.map(({ path, m, op }) => `<li><a href="#${escape(String(op.operationId))}">${escape(m.toUpperCase())} ${escape(path)}</a></li>`).join('')}</ul></nav>
<main>${ops.map(({ path, m, op }) => operationHtml(path, m, op)).join('\n')}</main></body></html>`;
}

/** Nothing on the page runs or loads: only its own inline styles. */
const DOCS_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/** `GET /openapi.json` and `GET /docs` on `app`, built once from `operations`. */
export function addApiDocs(app: HttpApp, info: DocInfo, operations: readonly DocOperation[]): JsonSchema {
  const doc = openApiDocument(info, operations);
  const page = docsPage(doc);
  route(app, '/openapi.json', { GET: () => jsonResponse(200, doc) });
  route(app, '/docs', { GET: () => new Response(page, { status: 200, headers: DOCS_HEADERS }) });
  return doc;
}

export const DOC_ENDPOINTS = ['GET /openapi.json', 'GET /docs'];
