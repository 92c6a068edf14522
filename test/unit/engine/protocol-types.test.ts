/**
 * The worker protocol at the type level: `npx tsc --noEmit` checks this file, and every `@ts-expect-error`
 * below fails the type check if the line it marks ever compiles (a wrong result, parameter or event that the
 * protocol table no longer rejects). Vitest runs it too (the expectTypeOf calls are no-ops at run time).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { WorkerChannel } from '../../../src/engine/channel';
import type { EngineHandlers } from '../../../src/engine/handler';
import type { EngineResponse, GenerateInput, GenerateOutput, KvUsage, LoadRequest, LoadResult } from '../../../src/engine/protocol';
import { isDoneOf } from '../../../src/engine/protocol';

declare const channel: WorkerChannel;
declare const load: LoadRequest;
declare const input: GenerateInput;

// Never called: these only have to type-check (or fail to, where marked).
export function pageSide() {
  expectTypeOf(channel.request('load', load)).resolves.toEqualTypeOf<LoadResult>();
  expectTypeOf(channel.request('generate', { input })).resolves.toEqualTypeOf<GenerateOutput>();
  expectTypeOf(channel.request('configure', { kvBudgetBytes: 1 })).resolves.toEqualTypeOf<{ kvUsage: KvUsage }>();
  expectTypeOf(channel.request('abort', { target: 3 })).resolves.toEqualTypeOf<{ aborted: boolean }>();

  // @ts-expect-error a load resolves to LoadResult, not an answer
  const wrongResult: Promise<GenerateOutput> = channel.request('load', load);
  // @ts-expect-error configure takes kvBudgetBytes
  void channel.request('configure', { kvBudget: 1 });
  // @ts-expect-error a generate request carries its input
  void channel.request('generate', {});
  // @ts-expect-error there is no such request
  void channel.request('unload', {});
  // Events: a load reports progress, a generation tokens, and nothing else.
  void channel.request('load', load, { progress: (e) => expectTypeOf(e.progress.loaded).toEqualTypeOf<number>() });
  void channel.request('generate', { input }, { token: (e) => expectTypeOf(e).toEqualTypeOf<{ text: string; tokens: number }>() });
  // @ts-expect-error a load sends no tokens
  void channel.request('load', load, { token: () => undefined });
  // @ts-expect-error a reset sends no events at all
  void channel.request('reset', {}, { progress: () => undefined });
  return wrongResult;
}

export function workerSide(): Partial<EngineHandlers> {
  // @ts-expect-error reset answers { ok: true }
  const reset: EngineHandlers['reset'] = async () => ({ ok: false });
  // @ts-expect-error an abort answers whether it aborted, not a load result
  const abort: EngineHandlers['abort'] = async () => ({ model: 'm', device: 'cpu', dtypes: load.dtypes, loadMs: 0 });
  const configure: EngineHandlers['configure'] = async ({ kvBudgetBytes }, { emit }) => {
    // @ts-expect-error configure sends no events
    emit('token', { text: 'a', tokens: 1 });
    return { kvUsage: { chats: 0, bytes: 0, budget: kvBudgetBytes } };
  };
  const generate: EngineHandlers['generate'] = async (_params, { emit }) => {
    emit('token', { text: 'a', tokens: 1 });
    // @ts-expect-error a generation does not report download progress
    emit('progress', { progress: { model: 'm', files: [], loaded: 0, total: 0 } });
    // @ts-expect-error a token event carries its count
    emit('token', { text: 'a' });
    return {} as GenerateOutput;
  };
  return { reset, abort, configure, generate };
}

describe('the worker protocol types', () => {
  it('a done is read as a request type’s result only when it is that type’s', () => {
    const answers: EngineResponse[] = [
      { id: 1, type: 'done', call: 'reset', result: { ok: true } },
      { id: 1, type: 'token', text: 'a', tokens: 1 },
    ];
    for (const msg of answers) {
      if (isDoneOf(msg, 'configure')) expectTypeOf(msg.result).toEqualTypeOf<{ kvUsage: KvUsage }>();
      expect(isDoneOf(msg, 'configure')).toBe(false);
      expect(isDoneOf(msg, 'reset')).toBe(msg.type === 'done');
    }
  });
});
