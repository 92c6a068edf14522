/**
 * Reading a request body with a bound, for any runtime: a declared Content-Length over the bound is refused
 * unread; a body without one (chunked) is counted as it arrives and refused as it passes the bound. The rest
 * is left unread, not cancelled: on Node, cancelling would reset the connection under a client still
 * uploading, while src/node/serve.ts drops the rest after the answer so the client reads it.
 */

export async function readLimitedText(req: Request, max: number, tooLarge: () => Error): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > max) throw tooLarge();
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      reader.releaseLock();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
