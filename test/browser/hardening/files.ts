/**
 * Hostile and unlucky files for the hardening tests, made in the browser (no binary fixtures checked in).
 */

/**
 * An animated GIF: `frames` frames of one colour each (from `colors`, RGB), 500 ms apart, looping. Encoded
 * by hand: LZW with a 2-bit minimum code size, and a clear code before every pair of pixels so the code
 * width stays at 3 bits (valid GIF, just not compact).
 */
export function animatedGif(width: number, height: number, colors: [number, number, number][]): Blob {
  const bytes: number[] = [];
  const u16 = (n: number) => bytes.push(n & 0xff, (n >> 8) & 0xff);
  bytes.push(...Array.from('GIF89a', (c) => c.charCodeAt(0)));
  u16(width);
  u16(height);
  bytes.push(0xf1, 0, 0); // global colour table of 4 entries
  for (let i = 0; i < 4; i++) bytes.push(...(colors[i] ?? [0, 0, 0]));
  // NETSCAPE2.0 loop forever
  bytes.push(0x21, 0xff, 0x0b, ...Array.from('NETSCAPE2.0', (c) => c.charCodeAt(0)), 0x03, 0x01, 0x00, 0x00, 0x00);
  colors.forEach((_, index) => {
    bytes.push(0x21, 0xf9, 0x04, 0x04, 50, 0, 0, 0); // graphic control: 500 ms, dispose "none"
    bytes.push(0x2c);
    u16(0);
    u16(0);
    u16(width);
    u16(height);
    bytes.push(0);
    bytes.push(2); // LZW minimum code size
    const codes: number[] = [];
    for (let p = 0; p < width * height; p++) {
      if (p % 2 === 0) codes.push(4); // clear
      codes.push(index);
    }
    codes.push(5); // end of information
    let acc = 0;
    let bits = 0;
    const data: number[] = [];
    for (const c of codes) {
      acc |= c << bits;
      bits += 3;
      while (bits >= 8) {
        data.push(acc & 0xff);
        acc >>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) data.push(acc & 0xff);
    for (let i = 0; i < data.length; i += 255) {
      const chunk = data.slice(i, i + 255);
      bytes.push(chunk.length, ...chunk);
    }
    bytes.push(0);
  });
  bytes.push(0x3b);
  return new Blob([new Uint8Array(bytes)], { type: 'image/gif' });
}

/** A real JPEG drawn on a canvas. */
export async function jpegBlob(width = 320, height = 240): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  for (let i = 0; i < 24; i++) {
    ctx.fillStyle = `hsl(${(i * 47) % 360} 70% 50%)`;
    ctx.fillRect((i * 61) % width, (i * 37) % height, width / 4, height / 5);
  }
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
}

/** The first `fraction` of a blob's bytes, as a download cut short leaves it. */
export async function truncated(blob: Blob, fraction: number, name = 'cut.jpg'): Promise<File> {
  return new File([blob.slice(0, Math.floor(blob.size * fraction))], name, { type: blob.type });
}

/** A PNG whose header claims the given size, with no pixel data behind it. */
export function pngClaiming(width: number, height: number, name = 'huge.png'): File {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const v = new DataView(b.buffer);
  v.setUint32(16, width);
  v.setUint32(20, height);
  b.set([8, 2, 0, 0, 0], 24);
  return new File([b], name, { type: 'image/png' });
}

/** A HEIC photo's first bytes (the ISO-BMFF `ftyp` box with the `heic` brand), as an iPhone sends it. */
export function heicFile(): File {
  const head = new Uint8Array([0, 0, 0, 0x18, ...Array.from('ftypheic', (c) => c.charCodeAt(0)), 0, 0, 0, 0,
    ...Array.from('mif1heic', (c) => c.charCodeAt(0))]);
  return new File([head, new Uint8Array(2048)], 'IMG_0001.HEIC', { type: 'image/heic' });
}

export const SVG_WITH_SCRIPT =
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" onload="window.__svgRan = true">' +
  '<script>window.__svgRan = true</script><rect width="64" height="64" fill="red"/></svg>';

/** A real PNG padded with zeros after its end to `bytes` (a 50 MB "photo"). */
export async function paddedPng(bytes: number, name = 'huge.png'): Promise<File> {
  const canvas = new OffscreenCanvas(64, 64);
  canvas.getContext('2d')!.fillRect(0, 0, 32, 32);
  const png = await canvas.convertToBlob({ type: 'image/png' });
  return new File([png, new Uint8Array(Math.max(0, bytes - png.size))], name, { type: 'image/png' });
}
