import { ensureTinyModel } from './fixtures/model/ensure';

/**
 * Generates the tiny test models once before the browser and e2e projects (seconds; cached by hash): the
 * faithful one and the last-position-logits one the SwiftShader tests load.
 */
export default async function setup(): Promise<void> {
  await Promise.all([ensureTinyModel('all'), ensureTinyModel('last')]);
}
