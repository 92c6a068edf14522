import { describe, expect, it } from 'vitest';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { toOpenAIMessages } from '../../../src/remote/convert';

const msg = (role: ChatMessage['role'], text: string, image = false): ChatMessage =>
  ({ role, content: makeContent(text, image), timestamp: '2026-11-21T00:00:00.000Z' });
const URL_ = 'data:image/png;base64,iVBORw0KGgo=';

describe('toOpenAIMessages with an image', () => {
  it('gives the message carrying the image part an [image_url, text] array, the others stay text', () => {
    const out = toOpenAIMessages([msg('user', 'Hi'), msg('assistant', 'Hello.'), msg('user', 'What font?', true),
      msg('assistant', 'Futura.'), msg('user', 'Bolder?')], 'You design posters.', URL_);
    expect(out).toEqual([
      { role: 'system', content: 'You design posters.' },
      { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: URL_ } }, { type: 'text', text: 'What font?' }] },
      { role: 'assistant', content: 'Futura.' }, { role: 'user', content: 'Bolder?' },
    ]);
  });

  it('sends the image exactly once, on the latest message carrying an image part, even one without text', () => {
    const out = toOpenAIMessages([msg('user', 'old', true), msg('assistant', 'ok'), msg('user', '', true)], '', URL_);
    expect(JSON.stringify(out).split(URL_).length - 1).toBe(1);
    expect(out).toEqual([{ role: 'user', content: 'old' }, { role: 'assistant', content: 'ok' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: URL_ } }, { type: 'text', text: '' }] }]);
  });

  it('without an image URL is text only: image parts dropped, empty turns skipped', () => {
    const out = toOpenAIMessages([msg('user', 'What font?', true), msg('user', '', true)], '');
    expect(out).toEqual([{ role: 'user', content: 'What font?' }]);
  });

  it('with an image URL but no image part in the context sends no image', () => {
    expect(toOpenAIMessages([msg('user', 'x')], '', URL_)).toEqual([{ role: 'user', content: 'x' }]);
  });
});
