/**
 * Which remote models read images, by name, when nobody said: the GPT-4o family (gpt-4o, gpt-4o-mini, their
 * dated snapshots and fine-tunes of them, `ft:gpt-4o-mini-…`) does; any other name is taken as text only.
 * The page's "This model reads images" toggle and the proxy's GLIMPSE_IMAGE_MODELS override it. Tiny and
 * dependency-free: the settings (first-load bundle) and the proxy both read it.
 */
const VISION_FAMILY = /^(?:ft:)?(?:chatgpt-)?gpt-4o(?:$|[-:])/i;
const NOT_VISION = /audio|realtime|transcribe|tts/i;

export function readsImagesByName(model: string): boolean {
  const name = model.trim();
  return VISION_FAMILY.test(name) && !NOT_VISION.test(name);
}
