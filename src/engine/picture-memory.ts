import type { ImageDetail } from '../chat/backend';
import { inspectImage } from '../chat/images';
import { ImageTooBigForMemoryError } from '../errors';
import { planImage, type ImagePlan } from './image';

/**
 * Whether a picture fits in the memory the model has left, judged before it is decoded (from the sizes in
 * its header) so that a picture too big is refused with words, not with a tab the phone kills.
 *
 * The estimate, per batch of frames the vision encoder reads at once (one on WebAssembly: a frame's share
 * only; see vision-batches.ts):
 * - decoding: 7 bytes a pixel (the canvas's RGBA and the RGB copy transformers.js makes);
 * - the frames: 3 × side² float32, twice (the page's tensor and ONNX Runtime's copy in its heap);
 * - the encoder: per frame, two heads × T² float32 attention tensors alive at once (scores and softmax,
 *   T patches a frame: the heap grew in steps of exactly that, issue 21) plus T × (5 × hidden +
 *   intermediate) float32 activations.
 * At SmolVLM-256M's shapes that is ≈ 129 MiB a frame, against ≈ 100–150 MiB measured in Chromium (1,311 MiB
 * for 13 frames, 1,968 MiB for 17): a little above, so a refusal errs on the side of the tab living.
 */

/** The vision encoder's shapes, read from config.json's vision_config (SmolVLM-256M's where absent). */
export interface VisionShape {
  side: number;
  patches: number;
  heads: number;
  hidden: number;
  intermediate: number;
}

/** Memory the model may use on this device, and what it already holds at rest. */
export interface MemoryRoom {
  /** The most the worker should hold (the lesser of WebAssembly's ceiling and a share of the device's memory). */
  budgetBytes: number;
  /** What the loaded model holds at rest (measured right after load). */
  steadyBytes: number;
}

const F32 = 4;

export function visionShapeOf(config: unknown): VisionShape {
  const v = ((config as { vision_config?: Record<string, unknown> } | null)?.vision_config ?? {}) as Record<string, unknown>;
  const num = (key: string, fallback: number) => (typeof v[key] === 'number' && v[key] > 0 ? v[key] : fallback);
  const side = num('image_size', 512);
  const patch = num('patch_size', 16);
  return {
    side,
    patches: Math.floor(side / patch) ** 2, // a stride-`patch` convolution without padding
    heads: num('num_attention_heads', 12),
    hidden: num('hidden_size', 768),
    intermediate: num('intermediate_size', 3072),
  };
}

/** Bytes reading a picture of this size at this plan needs beyond the model at rest. */
export function pictureBytes(width: number, height: number, plan: ImagePlan, shape: VisionShape, framesPerBatch = plan.frames): number {
  const decoded = width * height * 7;
  const frames = plan.frames * 3 * shape.side ** 2 * F32 * 2;
  const attention = 2 * shape.heads * shape.patches ** 2 * F32;
  const activations = shape.patches * (5 * shape.hidden + shape.intermediate) * F32;
  return decoded + frames + Math.min(framesPerBatch, plan.frames) * (attention + activations);
}

/**
 * Refuses, before decoding, a picture whose reading would take the worker past its budget, with what
 * would help: "low" detail (one frame) when that fits, else a smaller photo.
 */
export async function checkPictureFits(
  blob: Blob, detail: ImageDetail, shape: VisionShape, room: MemoryRoom | null, framesPerBatch?: number,
): Promise<void> {
  if (!room || room.budgetBytes <= 0) return;
  const { width, height } = await inspectImage(blob);
  const plan = planImage(width, height, detail);
  const need = pictureBytes(width, height, plan, shape, framesPerBatch);
  const left = Math.max(0, room.budgetBytes - room.steadyBytes);
  if (need <= left) return;
  const low = pictureBytes(width, height, planImage(width, height, 'low'), shape, framesPerBatch);
  const help = detail !== 'low' && low <= left
    ? 'Choose “low” image detail in Settings (one frame), or send a smaller photo.'
    : 'Send a smaller photo (fewer pixels), or close other tabs and reload Glimpse.';
  throw new ImageTooBigForMemoryError(
    `This ${width}×${height} picture at ${detail} detail (${plan.frames} frame${plan.frames === 1 ? '' : 's'}) needs about ` +
      `${mib(need)} of memory to read, and the model has about ${mib(left)} left on this device. ${help} Your chat is kept.`,
    { width, height, detail, frames: plan.frames, needBytes: need, leftBytes: left, budgetBytes: room.budgetBytes, lowFits: low <= left },
  );
}

function mib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}
