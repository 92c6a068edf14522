/**
 * The POST /chat form, read as a stream by @fastify/busboy (multipart or urlencoded): every part into a buffer
 * with its own bound, so memory per request is bounded by the limits, not by what a client sends, and a part
 * over its bound is refused the moment it passes it, naming that field. Only the `image` file part is kept;
 * other file parts are discarded as they arrive.
 */
import type { Readable } from 'node:stream';
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import { ImageTooLargeError, MessageTooLongError } from '../errors';
import { HttpError, invalid } from '../http/errors';

export interface ChatForm {
  message: string;
  image: Blob | null;
  sessionId: string | undefined;
}

export interface FormLimits {
  /** The whole body, in bytes. */
  maxBody: number;
  maxImageBytes: number;
  /** The longest message accepted, in characters (a text field may take 4 bytes a character, plus slack). */
  maxMessageChars: number;
}

export const mib = (bytes: number) => `${Math.round((bytes / 2 ** 20) * 10) / 10} MB`;

export function requestTooLarge(maxBody: number, param: string | null = null): HttpError {
  return new HttpError({
    status: 413, type: 'invalid_request_error', param, code: 'RequestTooLargeError',
    message: `The request is larger than the ${mib(maxBody)} this server accepts. Send a smaller image.`,
  });
}

const malformed = () => invalid('The form could not be read: the multipart body is malformed or cut short.', null, 'MalformedFormError');

/** What the parts said, gathered as they arrive. */
class Gathered {
  messages: string[] = [];
  sessionIds: string[] = [];
  images: { chunks: Buffer[]; name: string; type: string }[] = [];
  /** Told each session_id as soon as it is read (the handler's per-session rate limit); may throw. */
  onSessionId?: (id: string) => void;

  toForm(): ChatForm {
    const message = this.messages[0];
    if (message === undefined) {
      throw invalid('The form has no "message" field: send the question as message=... (curl -F "message=Hello").', 'message', 'MissingFieldError');
    }
    if (this.messages.length > 1) throw invalid('Send one "message" per request.', 'message', 'InvalidFieldError');
    const [first] = this.images;
    // A browser form with no file chosen sends an empty part with no file name: that is no image.
    const empty = first !== undefined && first.name === '' && first.chunks.every((c) => c.length === 0);
    const image = first && !empty ? new Blob(first.chunks as Uint8Array<ArrayBuffer>[], { type: first.type }) : null;
    const sid = this.sessionIds[0]?.trim();
    return { message, image, sessionId: sid ? sid : undefined };
  }
}

function onField(g: Gathered, limits: FormLimits, name: string, value: string, truncated: boolean): void {
  if (name === 'message') {
    if (truncated) {
      throw new MessageTooLongError(`This message is longer than the ${limits.maxMessageChars.toLocaleString('en')} characters ` +
        'this server accepts. Shorten it or split it into several messages.', { field: 'message', max: limits.maxMessageChars });
    }
    g.messages.push(value);
  } else if (name === 'session_id') {
    if (truncated) throw invalid('"session_id" is far too long to be a session id.', 'session_id', 'InvalidSessionIdError');
    g.sessionIds.push(value);
    g.onSessionId?.(value.trim());
  } else if (name === 'image') {
    throw invalid('"image" must be a file upload (curl -F "image=@photo.jpg"), not a text field.', 'image', 'InvalidFieldError');
  }
}

/** A text part read as a stream (multipart), so a message over its bound is refused as it passes it. */
function onTextStream(g: Gathered, limits: FormLimits, name: string, stream: BusboyFileStream, fail: (err: unknown) => void): void {
  const max = limits.maxMessageChars * 4 + 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= max) return void chunks.push(c);
    try {
      onField(g, limits, name, '', true);
    } catch (err) {
      fail(err);
    }
  });
  stream.on('end', () => {
    if (size > max) return;
    try {
      onField(g, limits, name, Buffer.concat(chunks).toString('utf8'), false);
    } catch (err) {
      fail(err);
    }
  });
}

function onFile(g: Gathered, limits: FormLimits, name: string, stream: BusboyFileStream, filename: string | undefined,
  type: string, fail: (err: unknown) => void): void {
  // A part cut short errors its stream; unheard, that error would end the process.
  stream.on('error', () => fail(malformed()));
  const text = name === 'message' || name === 'session_id';
  if (text && filename === undefined) return onTextStream(g, limits, name, stream, fail);
  if (text) return fail(invalid(`"${name}" must be a text field, not a file.`, name, 'InvalidFieldError'));
  if (name !== 'image') return void stream.resume(); // not ours: dropped as it arrives
  if (filename === undefined) return onTextStream(g, limits, name, stream, fail); // refused as text by onField
  if (g.images.length > 0) return fail(invalid('Send at most one image per message.', 'image', 'InvalidFieldError'));
  const image = { chunks: [] as Buffer[], name: filename, type };
  g.images.push(image);
  stream.on('data', (c: Buffer) => image.chunks.push(c));
  stream.on('limit', () => fail(new ImageTooLargeError(
    `This image is larger than ${mib(limits.maxImageBytes)}, the largest this server accepts. Resize or compress it and try again.`,
    { field: 'image', maxBytes: limits.maxImageBytes })));
}

function parser(contentType: string, limits: FormLimits): BusboyInstance {
  try {
    return Busboy({
      headers: { 'content-type': contentType },
      // A part is a file when it has a file name, as FormData decides (not by its content type); our own text
      // fields come as streams too, so their bound is checked as they arrive, not at their end.
      isPartAFile: (name, _type, filename) => filename !== undefined || name === 'message' || name === 'session_id' || name === 'image',
      limits: {
        fieldSize: limits.maxMessageChars * 4 + 1024, fieldNameSize: 100, fields: 16,
        fileSize: limits.maxImageBytes, files: 4, parts: 24, headerPairs: 16,
      },
    });
  } catch {
    throw malformed(); // no boundary, or a type busboy does not read
  }
}

/**
 * Reads the form from `source`. Rejects with the named error (413 ImageTooLargeError, 400
 * MessageTooLongError, 413 RequestTooLargeError…) as soon as a bound is passed; the rest of the body is left
 * unread (src/node/serve.ts drops it after the answer).
 */
export function readChatForm(source: Readable, contentType: string, limits: FormLimits,
  onSessionId?: (id: string) => void): Promise<ChatForm> {
  const boy = parser(contentType, limits);
  const g = new Gathered();
  g.onSessionId = onSessionId;
  return new Promise<ChatForm>((resolve, reject) => {
    let done = false;
    let received = 0;
    const finish = (err: unknown, form?: ChatForm) => {
      if (done) return;
      done = true;
      source.off('data', count);
      source.unpipe(boy);
      boy.removeAllListeners();
      boy.on('error', () => undefined);
      if (err === null && form) resolve(form);
      else reject(err);
    };
    const fail = (err: unknown) => finish(err);
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBody) fail(requestTooLarge(limits.maxBody));
    };
    boy.on('field', (name, value, _nameTruncated, valueTruncated) => {
      try {
        onField(g, limits, name, value, valueTruncated);
      } catch (err) {
        fail(err);
      }
    });
    // busboy's types say string; a part without a file name gives undefined.
    boy.on('file', (name, stream, filename, _encoding, type) => onFile(g, limits, name, stream, filename as string | undefined, type, fail));
    for (const event of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
      boy.on(event, () => fail(invalid('The form has too many parts: send message, image and session_id only.', null, 'InvalidFieldError')));
    }
    boy.on('error', () => fail(malformed()));
    boy.on('finish', () => {
      try {
        finish(null, g.toForm());
      } catch (err) {
        fail(err);
      }
    });
    source.on('error', () => fail(malformed()));
    source.on('data', count);
    source.pipe(boy);
  });
}
