import { isCutOff, textOf, type Role } from '../chat/messages';
import type { ExportedMessage, ExportedSession, ExportFile } from './transfer-schema';

/**
 * One chat as a Markdown file to read or share: the title, each turn on screen (the branch shown, not the
 * other versions: the JSON export keeps those) under a heading with its role and local time, pictures as
 * data URLs so the single .md file is self-contained. Answers are Markdown already and go in as they are
 * (a code fence the model left open is closed, so it cannot swallow the turns after it); what a person
 * typed is escaped, so it reads as typed and cannot break the layout. Pure: the caller reads the chat.
 */

export interface MarkdownOptions {
  /** How a turn's time is written (default: the browser's locale and time zone, e.g. "8 Dec 2026, 01:50"). */
  formatTime?: (iso: string) => string;
}

const ROLE_NAMES: Record<Role, string> = { user: 'You', assistant: 'Assistant', system: 'System' };

function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Backslash before each character Markdown (or GitHub's: `$` math, `~` strike-through) could read as markup. */
export function escapeInline(text: string): string {
  return text.replace(/[\\`*_[\]<>#|~&$]/g, '\\$&');
}

/**
 * A person's text, shown as typed: inline markup escaped, list, heading and quote markers at a line's start
 * escaped, leading spaces kept (not read as a code block), and each line break kept (a hard break).
 */
export function escapeText(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n').map((line) => {
    if (!line.trim()) return '';
    const [, indent = '', rest = ''] = /^([ \t]*)(.*)$/.exec(line) ?? [];
    const body = escapeInline(rest).replace(/^([-+=]|\d+(?=[.)]))/, (m) => (/^\d/.test(m) ? `${m}\\` : `\\${m}`));
    return '&nbsp;'.repeat(indent.replace(/\t/g, '    ').length) + body;
  });
  return lines.map((line, i) => (line && lines[i + 1] ? `${line}\\` : line)).join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** An answer as it is, with a code fence it left open closed (else it would take in the rest of the file). */
export function closeFences(text: string): string {
  let open: { char: string; length: number } | null = null;
  for (const line of text.split(/\r?\n/)) {
    const fence = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (!fence) continue;
    if (!open) open = { char: fence[0]!, length: fence.length };
    else if (fence[0] === open.char && fence.length >= open.length && /^ {0,3}[`~]+\s*$/.test(line)) open = null;
  }
  return open ? `${text.replace(/\s+$/, '')}\n${open.char.repeat(open.length)}` : text;
}

/** What a reader should know about how a turn ended, or nothing for a complete one. */
function endingOf(m: ExportedMessage): string | null {
  switch (m.status) {
    case 'stopped':
      return 'Stopped before the end.';
    case 'error':
      return m.error?.message ? `This answer failed: ${escapeInline(m.error.message.replace(/\s+/g, ' ').trim())}` : 'This answer failed.';
    case 'interrupted':
      return 'Interrupted: the page was closed while this answer was being written.';
    case 'streaming':
      return 'Still being written when this was exported.';
    default:
      return isCutOff(m) ? 'Cut off at the length limit.' : null;
  }
}

/** `# title`, then each turn on screen, its picture inline as a data URL. */
export function chatMarkdown(session: ExportedSession, images: ExportFile['images'], opts: MarkdownOptions = {}): string {
  const time = opts.formatTime ?? localTime;
  const title = session.title.replace(/\s+/g, ' ').trim() || 'Chat';
  const blocks = [`# ${escapeInline(title)}`];
  if (session.history.some((m) => m.versions?.length)) blocks.push('*Other versions of some turns are not shown here; the JSON export keeps them.*');
  let photos = 0;
  for (const m of session.history) {
    blocks.push(`## ${ROLE_NAMES[m.role]} · ${escapeInline(time(m.timestamp))}`);
    if (m.image) {
      const img = images[m.image];
      photos++;
      blocks.push(img ? `![photo ${photos}](data:${img.type};base64,${img.data})` : `*Photo ${photos} is not in this export.*`);
    }
    const text = textOf(m);
    if (text.trim()) blocks.push(m.role === 'assistant' ? closeFences(text.replace(/^\s*\n|\s+$/g, '')) : escapeText(text));
    const ending = endingOf(m);
    if (ending) blocks.push(`*${ending}*`);
  }
  return `${blocks.join('\n\n')}\n`;
}
