/**
 * The Host allowlist that closes DNS rebinding: a web page on attacker.example whose name is made to point at
 * 127.0.0.1 reaches the server with `Host: attacker.example`, and no Origin on a same-origin GET. Only the
 * names the server is meant to be reached by are answered, in every bind mode. Portable (edge runtimes too).
 */

/** Names every server answers to unless told otherwise. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', '']);

/** True for a bind address that listens on every interface. */
export const isWildcardBind = (host: string): boolean => WILDCARD_BINDS.has(host.trim());

/** A host name as compared: lower case, no IPv6 brackets, no trailing dot. */
export function normalizeHost(name: string): string {
  return name.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** The host name of a Host header value (`name`, `name:port`, `[v6]:port`); null when it is not one. */
export function hostOfHeader(value: string): string | null {
  const v = value.trim();
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s[\]:/@?#]+)(?::(\d{1,5}))?$/.exec(v);
  return m ? normalizeHost(m[1]!) : null;
}

export interface HostAllowlist {
  /** Any name is answered (an operator's explicit `*`). */
  any: boolean;
  names: ReadonlySet<string>;
}

/**
 * The names to answer to: the loopback names (a rebinding page cannot arrive with one), plus `configured` when
 * given (`*` = any), else the bind address when it is a specific one and `extra` (a Node entry bound to every
 * interface adds the machine's own names and addresses).
 */
export function hostAllowlist(configured: readonly string[], bindHost: string, extra: readonly string[] = []): HostAllowlist {
  if (configured.includes('*')) return { any: true, names: new Set() };
  const others = configured.length > 0 ? configured : [...(isWildcardBind(bindHost) ? [] : [bindHost]), ...extra];
  return { any: false, names: new Set([...LOOPBACK_NAMES, ...others].map(normalizeHost)) };
}

export function hostAllowed(list: HostAllowlist, name: string | null): boolean {
  return list.any || (name !== null && list.names.has(name));
}
