import { describe, expect, it } from 'vitest';
import { planImage } from '../../../src/engine/image';
import { checkPictureFits, pictureBytes, visionShapeOf } from '../../../src/engine/picture-memory';
import { ImageTooBigForMemoryError } from '../../../src/errors';
import { pngHeaderClaiming } from '../../fixtures/images';

const MiB = 2 ** 20;
// SmolVLM-256M's vision encoder (the defaults when config.json has no vision_config).
const real = visionShapeOf({ vision_config: { image_size: 512, patch_size: 16, num_attention_heads: 12, hidden_size: 768, intermediate_size: 3072 } });

describe('how much memory a picture needs, before it is decoded', () => {
  it('at real size is a little above what Chromium measured (issue 21: +1,311 MiB for 13 frames, +1,968 MiB for 17)', () => {
    expect(visionShapeOf(null)).toEqual(real);
    const thirteen = pictureBytes(4032, 3024, planImage(4032, 3024, 'auto'), real);
    const seventeen = pictureBytes(512, 512, planImage(512, 512, 'high'), real);
    expect(planImage(4032, 3024, 'auto').frames).toBe(13);
    expect(thirteen / MiB).toBeGreaterThan(1311);
    expect(thirteen / MiB).toBeLessThan(1311 * 1.5);
    expect(seventeen / MiB).toBeGreaterThan(1968);
    expect(seventeen / MiB).toBeLessThan(1968 * 1.3);
    // A batch of one frame needs one frame's share of the encoder.
    expect(pictureBytes(512, 512, planImage(512, 512, 'high'), real, 1)).toBeLessThan(seventeen / 8);
  });

  it('refuses from the header alone, saying what would help, and lets through what fits', async () => {
    const room = { budgetBytes: 1024 * MiB, steadyBytes: 442 * MiB };
    // A header with no pixels behind it: the check reads the size and never decodes.
    const photo = pngHeaderClaiming(4032, 3024);
    const err = await checkPictureFits(photo, 'high', real, room).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageTooBigForMemoryError);
    expect((err as ImageTooBigForMemoryError).message).toMatch(/4032×3024 picture at high detail \(13 frames\) needs about 1\.\d GiB .* about 582 MiB left .*“low” image detail/);
    expect((err as ImageTooBigForMemoryError).data).toMatchObject({ frames: 13, lowFits: true });
    await expect(checkPictureFits(photo, 'low', real, room)).resolves.toBeUndefined();
    await expect(checkPictureFits(photo, 'high', real, null)).resolves.toBeUndefined();
  });

  it('when even one frame does not fit, asks for a smaller photo instead', async () => {
    const err = await checkPictureFits(pngHeaderClaiming(4032, 3024), 'high', real, { budgetBytes: 500 * MiB, steadyBytes: 442 * MiB }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Send a smaller photo/);
    expect((err as ImageTooBigForMemoryError).data.lowFits).toBe(false);
  });
});
