/**
 * Long and many chats (issue 13), each figure a ratio measured in one run on the same messages, with the
 * answers compared token for token:
 *
 *  window_ttft_ratio    turn 15 of a chat about a 1024×1024 image (detail auto, 5 frames), past the
 *                       20-message window: today's way (the window moved, so vision and the whole prompt
 *                       again: `noCache`) ÷ the new way (the window slides in steps: the cache extends).
 *  switch_ttft_ratio    back to chat A after a turn in chat B: recomputed (`noCache`) ÷ resumed from A's cache.
 *  reopen_ttft_ratio    a chat with a detail-high image (17 frames) after a restart: today (vision again) ÷
 *                       a fresh engine given the picture's stored features.
 *  chats_tokens_identical  every pair above answered with the same tokens.
 *  kv_5_chats_mb / kv_budget_mb  KV-cache bytes held after 5 chats, with a budget that fits about 2.5 of them.
 */
import type { VlmEngine } from '../../src/engine/engine';
import type { GenerateInput, GenerateOutput } from '../../src/engine/protocol';
import { Conversation, ensureModel, image, loadEngine, median, question, repeat, round, settings, type BenchImage, type GroupOptions, type GroupResult } from './common';

const FILL_TOKENS = 8;
const MEASURED_TOKENS = 12;

interface Pair {
  figure: string;
  todayMs: number;
  newMs: number;
  identical: boolean;
  visionRanNew: boolean;
}

const pair = (figure: string, today: GenerateOutput, now: GenerateOutput): Pair => ({
  figure,
  todayMs: today.stats.timeToFirstTokenMs,
  newMs: now.stats.timeToFirstTokenMs,
  identical: today.text === now.text && today.stats.tokens === now.stats.tokens,
  visionRanNew: now.stats.visionRan,
});

export async function runChats(opts: GroupOptions): Promise<GroupResult> {
  const root = await ensureModel(opts.model, opts.log);
  const engine = await loadEngine(root);
  const naive = await loadEngine(root);
  const photo = await image(1024, 1024, 7);
  const other = await image(1024, 1024, 8);
  await naive.generate(new Conversation(photo).user('warm up', true).input(settings(2, 'low')), { noCache: true });

  const runs = await repeat(opts.quick ? 1 : 2, async (r) => {
    const out = [await pastTheWindow(engine, naive, photo), await chatSwitch(engine, naive, photo, other), await reopen(root, naive, photo)];
    opts.log(`chats run ${r + 1}: ` + out.map((p) => `${p.figure} ${Math.round(p.todayMs)}/${Math.round(p.newMs)} ms`).join(', '));
    return out;
  });
  const memory = await fiveChats(engine, opts.quick);
  await engine.unload();
  await naive.unload();

  const flat = runs.flat();
  const ratio = (f: string) => round(median(flat.filter((p) => p.figure === f).map((p) => p.todayMs / p.newMs)), 1);
  return {
    figures: {
      window_ttft_ratio: ratio('window'),
      switch_ttft_ratio: ratio('switch'),
      reopen_ttft_ratio: ratio('reopen'),
      chats_tokens_identical: flat.every((p) => p.identical),
      kv_5_chats_mb: round(memory.maxBytes / 2 ** 20, 1),
      kv_budget_mb: round(memory.budget / 2 ** 20, 1),
    },
    runs: { chats: flat, memory },
  };
}

/** 14 exchanges, then turn 15 (29 messages: the window has slid) measured both ways. */
async function pastTheWindow(engine: VlmEngine, naive: VlmEngine, photo: BenchImage): Promise<Pair> {
  await engine.resetCache();
  const conv = new Conversation(photo).user(question(0), true);
  for (let k = 1; k <= 14; k++) {
    conv.assistant((await engine.generate(conv.input(settings(FILL_TOKENS)))).text);
    conv.user(question(k));
  }
  const input = conv.input(settings(MEASURED_TOKENS));
  const now = await engine.generate(input);
  return pair('window', await naive.generate(input, { noCache: true }), now);
}

/** Chat A with one picture, chat B with another, then A again: resumed from A's cache. */
async function chatSwitch(engine: VlmEngine, naive: VlmEngine, photo: BenchImage, other: BenchImage): Promise<Pair> {
  await engine.resetCache();
  const a = new Conversation(photo).user(question(0), true);
  const b = new Conversation(other).user(question(1), true);
  a.assistant((await engine.generate(inChat('A', a.input(settings(FILL_TOKENS))))).text);
  await engine.generate(inChat('B', b.input(settings(FILL_TOKENS))));
  const input = inChat('A', a.user(question(2)).input(settings(MEASURED_TOKENS)));
  const now = await engine.generate(input);
  return pair('switch', await naive.generate(input, { noCache: true }), now);
}

/** A restart: a fresh engine, once reading the detail-high picture again, once given its stored features. */
async function reopen(root: string, naive: VlmEngine, photo: BenchImage): Promise<Pair> {
  const conv = new Conversation(photo).user(question(0), true).assistant('A harbour at dusk.').user(question(1));
  const input = conv.input(settings(MEASURED_TOKENS, 'high'));
  const today = await naive.generate(input, { noCache: true });
  const restarted = await loadEngine(root);
  try {
    const now = await restarted.generate({ ...input, ...(today.features ? { features: [today.features] } : {}) });
    return pair('reopen', today, now);
  } finally {
    await restarted.unload();
  }
}

/** Five chats in turn with a budget that fits about two and a half: the bytes held never pass it. */
async function fiveChats(engine: VlmEngine, quick: boolean): Promise<{ budget: number; maxBytes: number; chats: number }> {
  await engine.resetCache();
  const first = new Conversation(await image(512, 512, 20)).user(question(0), true);
  await engine.generate(inChat('c0', first.input(settings(FILL_TOKENS, 'low'))));
  const budget = Math.floor(engine.kvUsage.bytes * 2.5);
  await engine.setKvBudget(budget);
  let maxBytes = engine.kvUsage.bytes;
  for (let i = 1; i < 5; i++) {
    const conv = new Conversation(await image(512, 512, 20 + i)).user(question(i), true);
    await engine.generate(inChat(`c${i}`, conv.input(settings(quick ? 4 : FILL_TOKENS, 'low'))));
    maxBytes = Math.max(maxBytes, engine.kvUsage.bytes);
  }
  const chats = engine.kvUsage.chats;
  await engine.setKvBudget(512 * 2 ** 20);
  return { budget, maxBytes, chats };
}

const inChat = (sessionId: string, input: GenerateInput): GenerateInput => ({ ...input, sessionId });
