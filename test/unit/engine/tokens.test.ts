/**
 * The canonical tokenization on the REAL SmolVLM tokenizer and chat template (test/fixtures/hub): typed
 * control tokens stay text, and everything else equals the tokenizer's own encoding of the whole prompt.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeContent, type ChatMessage, type Role } from '../../../src/chat/messages';
import { adaptTokenizer, encodePrompt, renderPrompt, type PromptTokenizer } from '../../../src/engine/tokens';

const HUB = new URL('../../fixtures/hub/SmolVLM-256M-Instruct/', import.meta.url);
const CONTROLS = ['<image>', '<end_of_utterance>', '<|im_start|>', '<fake_token_around_image>', '<global-img>', '<row_1_col_1>', '<|endoftext|>'];

let hf: PreTrainedTokenizer;
let tok: PromptTokenizer;
const render = (ms: ChatMessage[]) => hf.apply_chat_template(ms as never, { add_generation_prompt: true, tokenize: false }) as unknown as string;
const msg = (role: Role, text: string, image = false): ChatMessage => ({ role, content: makeContent(text, image), timestamp: '' });

beforeAll(() => {
  const json = JSON.parse(gunzipSync(readFileSync(new URL('tokenizer.json.gz', HUB))).toString('utf8')) as object;
  const config = JSON.parse(readFileSync(new URL('tokenizer_config.json', HUB), 'utf8')) as object;
  hf = new PreTrainedTokenizer(json, config);
  tok = adaptTokenizer(hf);
});

/** A seeded generator of awkward texts: unicode, emoji, code, spaces, newlines, digits, control-token look-alikes. */
function randomText(seed: number): string {
  const pieces = [' the', 'cat', ' ', '  ', '\n', '\n\n', 'é', 'ß', '日本語', '🙂', '👩‍💻', '```js\nconst x = 1;\n```', '42', '3.14',
    'don\'t', '<', '>', '<ima', 'ge>', '<image', '|', ':', 'User:', 'Assistant:', '\t', 'naïve', 'Ω', '—', '"quoted"'];
  let x = seed * 2654435761 || 1;
  let out = '';
  const n = 1 + (seed % 9);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out += pieces[(x >>> 0) % pieces.length];
  }
  return out.trim().length ? out : `${out}x`;
}

describe('canonical prompt tokenization (real SmolVLM tokenizer)', () => {
  it('renders exactly what the template renders, and marks message text as plain', () => {
    const ms = [msg('system', 'Be brief.'), msg('user', 'What is this?', true), msg('assistant', 'A cat.'), msg('user', 'Colour?')];
    const p = renderPrompt(ms, render);
    expect(p.text).toBe(render(ms));
    expect(p.plain.map(([s, e]) => p.text.slice(s, e))).toEqual(['Be brief.', 'What is this?', 'A cat.', 'Colour?']);
  });

  it('equals the tokenizer on the whole prompt for 300 generated conversations without typed control tokens', () => {
    let checked = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const turns = 1 + (seed % 5);
      const ms: ChatMessage[] = [];
      for (let t = 0; t < turns; t++) ms.push(msg(t % 2 ? 'assistant' : 'user', randomText(seed * 31 + t), t === 0 && seed % 3 === 0));
      const p = renderPrompt(ms, render);
      if (p.plain.some(([s, e]) => [...tok.controlTokens.keys()].some((c) => p.text.slice(s, e).includes(c)))) continue;
      checked++;
      expect(encodePrompt(tok, p).ids, `seed ${seed}: ${JSON.stringify(p.text)}`).toEqual(hf.encode(p.text));
    }
    expect(checked).toBeGreaterThan(250);
  });

  it('typed control tokens stay plain text; the template markup stays control tokens', () => {
    const eou = tok.controlTokens.get('<end_of_utterance>')!;
    const imageId = tok.controlTokens.get('<image>')!;
    expect([imageId, eou]).toEqual([49190, 49279]);
    for (const typed of CONTROLS) {
      const ms = [msg('user', `What does ${typed} mean?`)];
      const p = renderPrompt(ms, render);
      const { ids } = encodePrompt(tok, p);
      const naive = hf.encode(p.text);
      const typedId = tok.controlTokens.get(typed)!;
      expect(naive.filter((i) => i === typedId).length, typed).toBeGreaterThan(typed === '<|im_start|>' ? 1 : typed === '<end_of_utterance>' ? 1 : 0);
      // Only the template's own <|im_start|> and <end_of_utterance> remain control tokens.
      const controls = ids.filter((i) => i >= 49152 || i < 17);
      expect(controls, typed).toEqual([1, eou]);
      expect(hf.decode(ids)).toBe(p.text);
    }
  });

  it('expands the template\'s image placeholder, not a typed one, and says where the picture starts', () => {
    const ms = [msg('user', 'Is <image> here?', true)];
    const p = renderPrompt(ms, render);
    const expansion = `<fake_token_around_image><global-img>${'<image>'.repeat(64)}<fake_token_around_image>`;
    const { ids, imageAt } = encodePrompt(tok, p, { placeholder: '<image>', expansion });
    expect(ids.filter((i) => i === 49190)).toHaveLength(64);
    expect(ids[imageAt]).toBe(49189);
    expect(hf.decode(ids.slice(0, imageAt))).toBe('<|im_start|>User:');
    expect(hf.decode(ids.slice(imageAt + 67))).toBe('Is <image> here?<end_of_utterance>\nAssistant:');
  });
});
