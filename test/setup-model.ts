import { ensureTinyModel } from './fixtures/model/ensure';

/** Generates the tiny test model once before the browser and e2e projects (seconds; cached by hash). */
export default async function setup(): Promise<void> {
  await ensureTinyModel();
}
