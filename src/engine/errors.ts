import {
  DeviceLostError,
  EngineError,
  GlimpseError,
  ModelFilesMissingError,
  ModelLoadError,
  OutOfMemoryError,
  UnknownModelError,
} from '../errors';

/**
 * Maps what ONNX Runtime / transformers.js throw (plain Errors with varied wording) to named errors with a
 * message a person can act on. The original text is kept in `data.detail` for the details view.
 */
export function classifyEngineError(err: unknown, ctx: { model: string; phase: 'load' | 'generate' }): GlimpseError {
  if (err instanceof GlimpseError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const data = { model: ctx.model, detail };
  const t = detail.toLowerCase();
  if (/device (was )?lost|gpudevicelostinfo|device is lost|webgpu device/.test(t) && !/adapter/.test(t)) {
    return new DeviceLostError(
      'The graphics device stopped responding (the GPU driver reset or the tab used too much GPU memory). ' +
        'Glimpse restarted the model; send your message again.',
      data,
    );
  }
  if (/out of memory|oom|allocation failed|failed to allocate|bad_alloc|memory access out of bounds|maxbuffersize/.test(t)) {
    return new OutOfMemoryError(
      'The model ran out of memory. Close other tabs, choose a smaller model or a lower image detail, and try again.',
      data,
    );
  }
  if (/unauthorized access|401|repository not found|invalid model id|not a valid model identifier/.test(t)) {
    return new UnknownModelError(`The model “${ctx.model}” does not exist or is not public.`, data);
  }
  // "network error": Chromium's TypeError when a download is cut half-way through its body.
  if (/could not locate file|404|not found|file .* does not exist|failed to fetch|networkerror|network error|load failed|err_internet|unexpected token '<'/.test(t)) {
    return new ModelFilesMissingError(
      ctx.phase === 'load'
        ? `Some files of “${ctx.model}” could not be downloaded. Check your connection and retry: files already downloaded are kept.`
        : 'A model file was missing while answering.',
      data,
    );
  }
  if (ctx.phase === 'load') {
    return new ModelLoadError(`The model “${ctx.model}” could not be started: ${detail}`, data);
  }
  return new EngineError(`The model failed while answering: ${detail}`, data);
}
