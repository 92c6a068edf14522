/**
 * The one JSON error shape both servers answer with, `{"error": {message, type, param, code}}` (OpenAI's, so
 * the `openai` SDK surfaces the proxy's errors too), and the error thrown inside handlers to produce it.
 * Portable: no Node APIs (the proxy also runs on edge runtimes).
 */
import { GlimpseError } from '../errors';

export interface ErrorBody {
  status: number;
  /** The class of error, e.g. invalid_request_error, permission_error, not_found_error. */
  type: string;
  /** For a person: what was wrong and what to do. */
  message: string;
  /** The field at fault (`message`, `image`, `temperature`…) or null. */
  param?: string | null;
  /** The named error, e.g. MethodNotAllowedError. */
  code?: string | null;
  headers?: Record<string, string>;
}

/** Thrown inside a handler for a request it refuses; `onError` turns it into the JSON error once. */
export class HttpError extends GlimpseError {
  static override readonly errorName = 'HttpError';
  constructor(readonly body: ErrorBody) {
    super(body.message, { status: body.status, type: body.type, param: body.param ?? null, code: body.code ?? null });
  }
}

export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

export function errorJson(e: ErrorBody): string {
  return JSON.stringify({ error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code ?? null } });
}

export function errorResponse(e: ErrorBody, headers: Record<string, string> = {}): Response {
  return new Response(errorJson(e), { status: e.status, headers: { ...JSON_HEADERS, ...headers, ...e.headers } });
}

/** A 400 (or `status`) naming the field at fault. */
export const invalid = (message: string, param: string | null, code: string, status = 400): HttpError =>
  new HttpError({ status, type: 'invalid_request_error', message, param, code });
