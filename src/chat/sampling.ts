import type { GenerationSettings } from './backend';

/**
 * How an answer is sampled, and how Regenerate varies it. Greedy decoding (temperature 0, the default) gives
 * the same answer every time, so a Regenerate that kept it would repeat the answer word for word: unless the
 * user asked for determinism (a fixed seed in the settings), a regenerate samples at the chat's temperature,
 * or at REGENERATE_TEMPERATURE when that is 0, with a fresh seed. Every sampled answer carries its temperature
 * and seed in its details, so it can be told apart and reproduced.
 */

/** The temperature a Regenerate samples at when the chat's is 0 (greedy). */
export const REGENERATE_TEMPERATURE = 0.7;

/** Seeds are whole numbers below 2^31, the range every backend accepts (the OpenAI API's `seed` included). */
export const MAX_SEED = 2 ** 31 - 1;

/** A fresh seed from the platform's random source. */
export function randomSeed(): number {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return (n ?? 0) % MAX_SEED;
}

/** Whether the settings sample (anything above temperature 0) rather than decode greedily. */
export const samples = (g: Pick<GenerationSettings, 'temperature'>): boolean => g.temperature > 0;

/** The settings of a first answer: a sampled one gets a seed (the user's, else a fresh one). */
export function answerSettings(g: GenerationSettings, seed = randomSeed): GenerationSettings {
  return samples(g) ? { ...g, seed: g.seed ?? seed() } : g;
}

/**
 * The settings of a Regenerate: with a seed the user set, exactly the chat's (the same answer again, as
 * asked); otherwise sampled, at the chat's temperature or REGENERATE_TEMPERATURE, with a fresh seed.
 */
export function regenerateSettings(g: GenerationSettings, seed = randomSeed): GenerationSettings {
  if (g.seed !== undefined) return g;
  return { ...g, temperature: samples(g) ? g.temperature : REGENERATE_TEMPERATURE, seed: seed() };
}
