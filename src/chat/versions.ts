import type { BranchTurn, MessageVersion, StoredMessage } from './messages';
import { VersionNotFoundError } from '../errors';

/**
 * Versions of a turn and the branches they lead to. A transcript stays one line of turns (what the model,
 * the window and the REST API read); a turn that was answered again (Regenerate) or edited keeps its other
 * versions, each with the turns that followed it. Showing another version swaps the turns after it: the
 * conversation goes on from there, and nothing that was said is lost. Pure functions; the chat service
 * applies them with SessionRepository.replaceFrom.
 */

/** How many versions a turn has (1 when it was never answered again or edited). */
export function versionCount(m: Pick<StoredMessage, 'versions'>): number {
  return (m.versions?.length ?? 0) + 1;
}

/** Which of them is shown, 0-based. */
export function versionIndex(m: Pick<StoredMessage, 'versions' | 'version'>): number {
  const others = m.versions?.length ?? 0;
  return Math.min(Math.max(0, m.version ?? others), others);
}

/** A stored turn as a branch keeps it: without its place in a transcript (it gets a new one when shown again). */
export function toBranchTurn(m: StoredMessage): BranchTurn {
  const { id: _id, sessionId: _s, seq: _q, rev: _r, branchImages: _b, ...turn } = m;
  return structuredClone(turn);
}

/** The version a turn shows now, with the turns that follow it in the transcript. */
function shown(m: StoredMessage, tail: readonly StoredMessage[]): MessageVersion {
  return {
    content: structuredClone(m.content),
    timestamp: m.timestamp,
    ...(m.status ? { status: m.status } : {}),
    ...(m.error ? { error: { ...m.error } } : {}),
    ...(m.details ? { details: { ...m.details } } : {}),
    following: tail.map(toBranchTurn),
  };
}

/** Every version of a turn, in order, the shown one included (with the transcript's tail as its branch). */
export function allVersions(m: StoredMessage, tail: readonly StoredMessage[]): MessageVersion[] {
  const all = structuredClone(m.versions ?? []);
  all.splice(versionIndex(m), 0, shown(m, tail));
  return all;
}

/**
 * The turn with a new version shown last (an edit's text, or a new answer's placeholder): the others keep
 * what they were, the current one with the turns that followed it. The transcript ends with this turn.
 */
export function withNewVersion(m: StoredMessage, tail: readonly StoredMessage[], next: Partial<StoredMessage>): StoredMessage {
  const versions = allVersions(m, tail);
  const { status: _s, error: _e, details: _d, ...rest } = m;
  return { ...rest, ...next, versions, version: versions.length };
}

/**
 * Shows version `index` of a turn: the turn as that version, and the turns to put after it (that version's
 * branch). The version shown until now keeps the current tail as its branch.
 */
export function showVersion(m: StoredMessage, tail: readonly StoredMessage[], index: number): { turn: StoredMessage; following: BranchTurn[] } {
  const all = allVersions(m, tail);
  const chosen = all[index];
  if (!chosen) throw new VersionNotFoundError(`This message has ${all.length} versions; there is no version ${index + 1}.`, { versions: all.length, index });
  all.splice(index, 1);
  const { status: _s, error: _e, details: _d, ...rest } = m;
  const { following = [], ...version } = chosen;
  return { turn: { ...rest, ...version, versions: all, version: index }, following };
}

/** Every picture the versions of a turn refer to, in their branches and theirs (kept while referred to). */
export function branchImages(versions: readonly MessageVersion[] | undefined): string[] {
  const found = new Set<string>();
  const walk = (list: readonly MessageVersion[] | undefined) => {
    for (const v of list ?? []) {
      for (const t of v.following ?? []) {
        if (t.imageHash) found.add(t.imageHash);
        walk(t.versions);
      }
    }
  };
  walk(versions);
  return [...found];
}
