import { describe, expect, it } from 'vitest';
import { buildContext } from '../../../src/chat/context';
import { hasImagePart, makeContent, textOf, type StoredMessage } from '../../../src/chat/messages';

let seq = 0;
function msg(role: 'user' | 'assistant', text: string, imageHash?: string): StoredMessage {
  const m: StoredMessage = {
    id: `m${seq}`, sessionId: 's', seq: seq++, role, content: makeContent(text, !!imageHash),
    timestamp: new Date(2026, 0, 1, 0, 0, seq).toISOString(), status: 'complete',
  };
  if (imageHash) m.imageHash = imageHash;
  return m;
}

function exchanges(n: number, imageAt: number | null, hash = 'img1'): StoredMessage[] {
  seq = 0;
  const out: StoredMessage[] = [];
  for (let i = 0; i < n; i++) {
    out.push(msg('user', `q${i}`, i === imageAt ? hash : undefined), msg('assistant', `a${i}`));
  }
  return out;
}

const opts = { windowSize: 20, systemPrompt: '', imageHash: 'img1' };

describe('the context window', () => {
  it('keeps the last 20 messages of a longer transcript, in order', () => {
    const t = exchanges(15, null);
    const ctx = buildContext(t, { ...opts, imageHash: null });
    expect(ctx.messages).toHaveLength(20);
    expect(textOf(ctx.messages[0]!)).toBe('q5');
    expect(textOf(ctx.messages[19]!)).toBe('a14');
    expect(ctx.windowStartSeq).toBe(10);
    // The transcript itself is untouched.
    expect(t).toHaveLength(30);
  });

  it('is a setting', () => {
    const ctx = buildContext(exchanges(5, null), { ...opts, windowSize: 4, imageHash: null });
    expect(ctx.messages.map(textOf)).toEqual(['q3', 'a3', 'q4', 'a4']);
  });

  it('puts the system prompt first, outside the window count', () => {
    const ctx = buildContext(exchanges(15, null), { ...opts, systemPrompt: ' Be brief. ', imageHash: null });
    expect(ctx.messages).toHaveLength(21);
    expect(ctx.messages[0]).toMatchObject({ role: 'system', content: [{ type: 'text', text: 'Be brief.' }] });
  });

  it('never opens on an answer', () => {
    const ctx = buildContext(exchanges(5, null), { ...opts, windowSize: 5, imageHash: null });
    expect(ctx.messages.map(textOf)).toEqual(['q3', 'a3', 'q4', 'a4']);
  });

  it('slides in steps of half the window: between steps a new turn only appends to the prompt', () => {
    const t = exchanges(40, null);
    const starts = new Set<number | null>();
    for (let n = 21; n <= 80; n++) {
      const before = buildContext(t.slice(0, n - 1), { ...opts, imageHash: null });
      const after = buildContext(t.slice(0, n), { ...opts, imageHash: null });
      expect(after.messages.length).toBeLessThanOrEqual(20);
      expect(after.messages.length).toBeGreaterThanOrEqual(11);
      expect(after.messages[0]!.role).toBe('user');
      starts.add(after.windowStartSeq);
      if (after.windowStartSeq === before.windowStartSeq) expect(after.messages.slice(0, before.messages.length)).toEqual(before.messages);
    }
    // 60 turns past the window moved its start only 6 times (each a 10-message step).
    expect([...starts]).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('leaves out a failed turn with no text, question and answer: never two questions in a row', () => {
    seq = 0;
    const t = [msg('user', 'q'), msg('assistant', ''), msg('user', 'again')];
    const ctx = buildContext(t, { ...opts, imageHash: null });
    expect(ctx.messages.map(textOf)).toEqual(['again']);
    expect(ctx.messages.map((m) => m.role)).toEqual(['user']);
  });

  it('the picture of a failed turn stays in context, on the next question', () => {
    seq = 0;
    const t = [{ ...msg('user', 'look'), imageHash: 'img1' }, msg('assistant', ''), msg('user', 'again')];
    const ctx = buildContext(t, { ...opts, imageHash: 'img1' });
    expect(ctx.messages.map((m) => [m.role, hasImagePart(m), textOf(m)])).toEqual([['user', true, 'again']]);
    expect(ctx.imageHash).toBe('img1');
  });
});

describe('one image in context', () => {
  it('a message without an image keeps the latest image, on its own message', () => {
    const ctx = buildContext(exchanges(3, 1), opts);
    const carriers = ctx.messages.map((m, i) => (hasImagePart(m) ? i : -1)).filter((i) => i >= 0);
    expect(carriers).toEqual([2]);
    expect(ctx.imageHash).toBe('img1');
  });

  it('a new image replaces the previous one: exactly one image part, on the newest', () => {
    seq = 0;
    const t = [msg('user', 'first', 'old'), msg('assistant', 'a'), msg('user', 'second', 'new'), msg('assistant', 'b')];
    const ctx = buildContext(t, { ...opts, imageHash: 'new' });
    expect(ctx.messages.filter(hasImagePart)).toHaveLength(1);
    expect(textOf(ctx.messages.find(hasImagePart)!)).toBe('second');
  });

  it('stays available after its message left the window: attached to the first user turn', () => {
    const t = exchanges(15, 0);
    const ctx = buildContext(t, opts);
    expect(ctx.imageHash).toBe('img1');
    expect(ctx.messages.filter(hasImagePart)).toHaveLength(1);
    expect(ctx.messages[0]).toMatchObject({ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'q5' }] });
  });

  it('no image in context when the session has none (cleared or removed)', () => {
    const ctx = buildContext(exchanges(3, 1), { ...opts, imageHash: null });
    expect(ctx.messages.some(hasImagePart)).toBe(false);
    expect(ctx.imageHash).toBeNull();
  });

  it('an image-only message (no text) is kept as the image carrier', () => {
    seq = 0;
    const t = [msg('user', '', 'img1'), msg('assistant', 'nice'), msg('user', 'what colour?')];
    const ctx = buildContext(t, opts);
    expect(ctx.messages[0]!.content).toEqual([{ type: 'image' }]);
  });

  it('is deterministic: appending a turn only appends to the prompt', () => {
    const t = exchanges(4, 1);
    const a = buildContext(t, opts);
    const b = buildContext([...t, msg('user', 'next')], opts);
    expect(b.messages.slice(0, a.messages.length)).toEqual(a.messages);
  });
});
