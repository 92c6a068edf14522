/**
 * Continue with GLIMPSE_ENGINE=openai: an answer the inference server cut at max_tokens (finish_reason
 * "length") is marked, and POST /chat/sessions/{id}/continue sends the conversation ending with the answer so
 * far, asking the server to go on from it (continue_final_message, add_generation_prompt false: vLLM's names,
 * which llama-server reads too), then stores the whole answer, its leading space kept where the server's
 * continuation starts with one (llama-server's tokens do).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ChatResponse, HistoryResponse } from '../../../src/chat/service';
import { useOpenAIApi } from '../../fixtures/openai-api';

const stack = useOpenAIApi('openai-continue', { GLIMPSE_ENGINE_MODEL: 'smolvlm', GLIMPSE_MAX_NEW_TOKENS: '3' }, {});

const post = async (path: string, body?: FormData) => {
  const res = await fetch(`${stack.api.url}${path}`, { method: 'POST', ...(body ? { body } : {}) });
  return { res, body: (await res.json()) as ChatResponse & { error?: { code: string } } };
};
const ask = (message: string) => {
  const f = new FormData();
  f.append('message', message);
  return post('/chat', f);
};

beforeEach(() => stack.fake.reset());

// llama-server's pieces start with their space (" Fake", " answer."), vLLM's fake ones end with it ("Fake ").
describe.each([
  { flavor: 'llama' as const, cut: 'Fake answer. last:', whole: 'Fake answer. last: and so it' },
  { flavor: 'vllm' as const, cut: 'Fake answer. last: ', whole: 'Fake answer. last: and so it ' },
])('Continue against a $flavor-flavoured server', ({ flavor, cut, whole }) => {
  it('marks the cut answer, sends the answer so far for the server to go on from, and stores the whole answer', async () => {
    stack.fake.flavor = flavor;
    const first = await ask('hello there');
    expect(first.res.status).toBe(200);
    expect(first.body.finish_reason).toBe('length');
    expect(first.body.response).toBe(cut);

    const more = await post(`/chat/sessions/${first.body.session_id}/continue`);
    expect(more.res.status).toBe(200);
    const sent = stack.fake.requests.at(-1)!.body;
    expect(sent).toMatchObject({ continue_final_message: true, add_generation_prompt: false, max_tokens: 3 });
    expect((sent.messages as { role: string; content: unknown }[]).slice(-2)).toEqual([
      { role: 'user', content: 'hello there' }, { role: 'assistant', content: cut },
    ]);
    // The continuation's first piece keeps its space: it separates two words of one answer.
    expect(more.body.response).toBe(whole);
    expect(more.body.finish_reason).toBe('length');
    const h = (await (await fetch(`${stack.api.url}/chat/history/${first.body.session_id}`)).json()) as HistoryResponse;
    expect(h.length).toBe(2);
    expect(h.history[1]).toMatchObject({ content: [{ type: 'text', text: whole }], finish_reason: 'length' });
  });
});

it('an answer the server ended (finish_reason "stop") is not offered for Continue: 409, nothing sent', async () => {
  stack.fake.flavor = 'llama';
  stack.fake.answer = 'Ok';
  const r = await post('/chat', (() => { const f = new FormData(); f.append('message', 'a b'); return f; })());
  // " Ok", " last:", " a", " b": cut at 3 pieces; then a one-piece continuation the server ends itself.
  expect(r.body.finish_reason).toBe('length');
  stack.fake.continuation = 'done';
  const more = await post(`/chat/sessions/${r.body.session_id}/continue`);
  expect(more.body.finish_reason).toBe('stop');
  const sentBefore = stack.fake.requests.length;
  const again = await post(`/chat/sessions/${r.body.session_id}/continue`);
  expect(again.res.status).toBe(409);
  expect(again.body.error?.code).toBe('CannotContinueError');
  expect(stack.fake.requests.length).toBe(sentBefore);
});
