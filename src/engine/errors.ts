import {
  DeviceLostError,
  EngineError,
  GlimpseError,
  ModelFilesMissingError,
  ModelLoadError,
  OutOfMemoryError,
  UnknownModelError,
} from '../errors';
import { errorText, failedFile, httpStatus, isDeviceLost, isOutOfMemory, networkFailure, ORT_STATUS, ortStatus } from './error-facts';

interface Context {
  model: string;
  phase: 'load' | 'generate';
}

/**
 * Maps what ONNX Runtime / WebGPU / fetch / transformers.js throw to named errors with a message a person can
 * act on, on structured facts (see error-facts.ts). The original text is kept in `data.detail`, with the
 * facts found (`status`, `ortCode`, `network`).
 */
export function classifyEngineError(err: unknown, ctx: Context): GlimpseError {
  if (err instanceof GlimpseError) return err;
  const detail = errorText(err);
  const ort = ortStatus(detail);
  const status = httpStatus(err);
  const network = networkFailure(err);
  const data = { model: ctx.model, detail, ...(ort && { ortCode: ort.code }), ...(status !== null && { status }), ...(network && { network }) };
  const text = ort?.message ?? detail;
  if (isDeviceLost(err, text)) {
    return new DeviceLostError(
      'The graphics device stopped responding (the GPU driver reset or the tab used too much GPU memory). ' +
        'Glimpse restarted the model; send your message again.',
      data,
    );
  }
  if (isOutOfMemory(err, text)) {
    return new OutOfMemoryError(
      'The model ran out of memory. Close other tabs, choose a smaller model or a lower image detail, and try again.',
      data,
    );
  }
  if (isUnknownModel(err, status)) return new UnknownModelError(`The model “${ctx.model}” does not exist or is not public.`, data);
  const missing = status === 404 ? failedFile(err) : null;
  if (missing && ctx.phase === 'load') {
    // The host answered and has no such file: no connection problem, and retrying will not help.
    return new ModelFilesMissingError(
      `${missing.host} has no file “${missing.file}” for “${ctx.model}” (404 Not Found). Use another model host ` +
        'that has this model, load it from a folder, or choose another model.',
      { ...data, ...missing },
    );
  }
  if (isMissingFile(err, status, network, ort?.code)) {
    return new ModelFilesMissingError(
      ctx.phase === 'load'
        ? `Some files of “${ctx.model}” could not be downloaded. Check your connection and retry: files already downloaded are kept.`
        : 'A model file was missing while answering.',
      data,
    );
  }
  if (ctx.phase === 'load') return new ModelLoadError(`The model “${ctx.model}” could not be started: ${detail}`, data);
  return new EngineError(`The model failed while answering: ${detail}`, data);
}

/** The hub answers 401 for a repository that does not exist or is private (and 403 for a gated one). */
function isUnknownModel(err: unknown, status: number | null): boolean {
  if (status === 401 || status === 403) return true;
  // transformers.js refuses an id that is not `owner/name` before any request.
  return err instanceof Error && err.name === 'ModelFileNotFoundError' && /\binvalid model ID\b/.test(err.message);
}

function isMissingFile(err: unknown, status: number | null, network: string | null, ortCode: number | undefined): boolean {
  // 404, and the statuses a retry may get past (408, 429, 5xx): the host answered, a file did not come.
  if (status !== null || network !== null || ortCode === ORT_STATUS.NO_SUCHFILE) return true;
  if (!(err instanceof Error)) return false;
  // Not on the hub layout / not in the local folder (transformers.js, status null).
  if (err.name === 'ModelFileNotFoundError') return true;
  // An HTML page where a JSON file should be (a static host's 404 page or an app's index.html).
  return err instanceof SyntaxError && /^Unexpected token '<'|\bis not valid JSON\b/.test(err.message);
}
