/**
 * One error family: every named error in src/ is a GlimpseError (a stable `name` that survives minifying,
 * `data` for the UI and the servers' JSON errors), so no caller needs a special case for "ours but not a
 * GlimpseError".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GenerationAbortedError, GlimpseError, isError, serializeError } from '../../../src/errors';
import { HttpError } from '../../../src/http/errors';
import { ProxyConfigError } from '../../../src/proxy/config';
import { UpstreamFailure } from '../../../src/proxy/upstream';
import { ApiConfigError } from '../../../src/server/config';
import { DataDirInUseError } from '../../../src/server/disk';
import { fromError } from '../../../src/server/errors';
import { SchemaTooNewError } from '../../../src/server/pg/migrations';
import { DatabaseOpenError } from '../../../src/server/pg/pool';
import { QueueAbortedError, QueueFullError } from '../../../src/server/queue';

const SRC = join(import.meta.dirname, '../../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** `class X extends Error`, or any built-in error class, directly (generic or not, globalThis or not). */
const EXTENDS_BUILTIN = /\bclass\s+(\w+)\s*(?:<[^>{]*>)?\s+extends\s+(?:globalThis\.)?(Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)\b/g;

/** `throw new Error(…)` or another built-in error class. */
const THROWS_BUILTIN = /\bthrow\s+new\s+(?:globalThis\.)?(Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)\s*\(/g;

describe('one error family', () => {
  it('no class in src/ extends Error (or another built-in error) directly, except GlimpseError', () => {
    const direct: string[] = [];
    for (const file of sources(SRC)) {
      for (const m of readFileSync(file, 'utf8').matchAll(EXTENDS_BUILTIN)) direct.push(`${relative(SRC, file)}: ${m[1]} extends ${m[2]}`);
    }
    expect(direct).toEqual(['errors.ts: GlimpseError extends Error']);
  });

  it('nothing in src/ throws a built-in error: each throw is a named error of the family', () => {
    const thrown: string[] = [];
    for (const file of sources(SRC)) {
      for (const m of readFileSync(file, 'utf8').matchAll(THROWS_BUILTIN)) thrown.push(`${relative(SRC, file)}: throw new ${m[1]}`);
    }
    expect(thrown).toEqual([]);
    expect([...'throw new Error(\'x\'); throw new RangeError(`y`); throw new EngineError(\'z\')'.matchAll(THROWS_BUILTIN)].map((m) => m[1]))
      .toEqual(['Error', 'RangeError']);
  });

  it('the check finds what it is meant to find', () => {
    const found = (text: string) => [...text.matchAll(EXTENDS_BUILTIN)].map((m) => m[1]);
    expect(found('export class A extends Error {}\nclass B<T> extends globalThis.TypeError {}\nclass C extends GlimpseError {}')).toEqual(['A', 'B']);
    expect(found('class D extends ErrorBoundary {}')).toEqual([]);
  });

  const cases: [GlimpseError, string, Record<string, unknown>, RegExp][] = [
    [new QueueFullError(4, 30), 'QueueFullError', { waiting: 4, retryAfterSec: 30 }, /4 requests are already waiting.*about 30 s/],
    [new QueueAbortedError(), 'QueueAbortedError', {}, /cancelled while it waited/],
    [new DataDirInUseError('/data', 42), 'DataDirInUseError', { dir: '/data', pid: 42 }, /\/data is in use .*pid 42/],
    [new ApiConfigError(['PORT is not a number']), 'ApiConfigError', { problems: ['PORT is not a number'] }, /cannot start:\n {2}- PORT is not a number/],
    [new ProxyConfigError(['OPENAI_API_KEY is missing']), 'ProxyConfigError', { problems: ['OPENAI_API_KEY is missing'] }, /proxy cannot start/],
    [new UpstreamFailure(429, 'rate_limited', 'Slow down.', 3, 7), 'UpstreamFailure',
      { status: 429, type: 'rate_limited', attempts: 3, retryAfterSec: 7, upstream: { code: null, param: null } }, /^Slow down\.$/],
    [new SchemaTooNewError(9, 2), 'SchemaTooNewError', { found: 9, known: 2 }, /version 9, newer than .*\(2\)/],
    [new DatabaseOpenError('refused', { cause: new Error('ECONNREFUSED') }), 'DatabaseOpenError', {}, /DATABASE_URL\): refused$/],
    [new HttpError({ status: 405, type: 'invalid_request_error', message: 'No.', code: 'MethodNotAllowedError' }), 'HttpError',
      { status: 405, type: 'invalid_request_error', param: null, code: 'MethodNotAllowedError' }, /^No\.$/],
  ];

  it.each(cases.map(([err, name, data, message]) => [name, err, data, message] as const))('%s is a GlimpseError with a stable name, its data and its message', (name, err, data, message) => {
    expect(err).toBeInstanceOf(GlimpseError);
    expect(err.name).toBe(name);
    expect((err.constructor as typeof GlimpseError).errorName).toBe(name);
    expect(err.data).toEqual(data);
    expect(err.message).toMatch(message);
    expect(isError(err, err.constructor as typeof GlimpseError)).toBe(true);
    // Its data crosses a boundary with it (a plain Error's fields did not).
    expect(structuredClone(serializeError(err))).toMatchObject({ name, message: err.message, data });
  });

  it('keeps the fields callers read', () => {
    expect(new QueueFullError(4, 30)).toMatchObject({ waiting: 4, retryAfterSec: 30 });
    expect(new UpstreamFailure(502, 'upstream_error', 'x', 2)).toMatchObject({ status: 502, type: 'upstream_error', attempts: 2, upstream: { code: null, param: null } });
    expect(new ApiConfigError(['a', 'b']).problems).toEqual(['a', 'b']);
    expect(new ProxyConfigError(['a']).problems).toEqual(['a']);
    expect(new SchemaTooNewError(3, 2)).toMatchObject({ found: 3, known: 2 });
    expect(new DatabaseOpenError('x', { cause: 'why' }).cause).toBe('why');
  });

  it('the REST API maps the queue’s errors through the one GlimpseError path', () => {
    expect(fromError(new QueueFullError(2, 12))).toMatchObject({ status: 503, code: 'QueueFullError', headers: { 'retry-after': '12' } });
    for (const gone of [new QueueAbortedError(), new GenerationAbortedError('Stopped.')]) {
      expect(fromError(gone)).toMatchObject({ status: 499, code: 'ClientClosedRequest' });
    }
    expect(fromError(new Error('boom'))).toBeNull();
  });
});
