/**
 * Image parts of a /v1/chat/completions request. The proxy takes images only inline, as `data:` URLs: it
 * never fetches a URL it is given (that would let any client make this server request arbitrary addresses).
 * The bytes are checked, not the declared type: PNG, JPEG, WebP or GIF by their first bytes, agreeing with
 * the type the URL declares, and no larger than the configured limit (decoded).
 */
import { formatName, formatNames, sniff, type ImageMime } from '../chat/images';

/** What the proxy forwards: the types every OpenAI vision model reads. Every refusal names this list. */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const satisfies readonly ImageMime[];

const DATA_URL = /^data:([^;,]*)(;base64)?,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface ImageProblem {
  code: string;
  message: string;
}

/** Decoded size of a base64 string, from its length (no decoding). */
export const base64Bytes = (b64: string): number =>
  Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);

/** The longest data URL an image of `maxBytes` makes (its base64, the longest type and the prefix). */
export const maxDataUrlChars = (maxBytes: number): number => Math.ceil(maxBytes / 3) * 4 + 64;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** Why an image URL is refused, or null when it is a data URL of an accepted image within `maxBytes`. */
export function checkImageUrl(url: string, maxBytes: number): ImageProblem | null {
  if (/^https?:/i.test(url)) {
    return { code: 'image_url_not_allowed', message: 'this proxy takes images only inline, as a data: URL ' +
      '(data:image/png;base64,…); it never fetches a URL it is given' };
  }
  const head = DATA_URL.exec(url.slice(0, 200));
  if (!head || !head[2]) {
    return { code: 'invalid_image', message: 'must be a base64 data: URL (data:image/png;base64,…)' };
  }
  const declared = (head[1] ?? '').toLowerCase();
  if (!(IMAGE_TYPES as readonly string[]).includes(declared)) {
    return { code: 'unsupported_image', message: `declares "${declared || 'no type'}"; accepted: ${formatNames(IMAGE_TYPES)} (${IMAGE_TYPES.join(', ')})` };
  }
  const b64 = url.slice(head[0].length);
  const size = base64Bytes(b64);
  if (size > maxBytes) {
    return { code: 'image_too_large', message: `the image is ${mb(size)}, over this proxy's ${mb(maxBytes)} limit (GLIMPSE_MAX_IMAGE_BYTES)` };
  }
  if (b64.length % 4 !== 0 || !BASE64.test(b64)) return { code: 'invalid_image', message: 'the data is not valid base64' };
  const actual = sniff(Uint8Array.from(atob(b64.slice(0, 48)), (c) => c.charCodeAt(0)));
  if (actual !== declared) {
    const accepted = formatNames(IMAGE_TYPES, 'or');
    return { code: 'invalid_image', message: actual === null ? `declares ${declared} but its bytes are not a ${accepted} image`
      : !(IMAGE_TYPES as readonly string[]).includes(actual) ? `declares ${declared} but its bytes are a ${formatName(actual)} image, not a ${accepted} image`
      : `declares ${declared} but its bytes are ${actual}` };
  }
  return null;
}
