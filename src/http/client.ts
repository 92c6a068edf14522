/**
 * Who a request comes from, for the rate limits: the socket's address, or, only when that address is a
 * proxy the operator trusts (GLIMPSE_TRUSTED_PROXIES), the nearest X-Forwarded-For entry that is not one
 * of them. By default nothing is trusted: a client can write any X-Forwarded-For it likes. Portable.
 */

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-f:]+(%[0-9a-z_.-]+)?$/i;

/** An address as compared: lower case, no brackets or zone, an IPv4-mapped IPv6 address as IPv4. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/.exec(a);
  return mapped ? mapped[1]! : a;
}

const isAddress = (a: string): boolean => IPV4.test(a) || (a.includes(':') && IPV6.test(a));

/**
 * The client's address. `remote` is the socket's peer; `forwardedFor` the X-Forwarded-For header, read only
 * when `remote` is in `trusted`: from the right, the first entry that is not a trusted proxy (entries further
 * left were written by the client and prove nothing). A malformed entry stops the walk at the last trusted hop.
 */
export function clientAddress(remote: string | undefined, forwardedFor: string | undefined, trusted: readonly string[]): string {
  let client = normalizeAddress(remote ?? 'unknown');
  if (forwardedFor === undefined || trusted.length === 0) return client;
  const trust = new Set(trusted.map(normalizeAddress));
  const hops = forwardedFor.slice(0, 2_000).split(',').map(normalizeAddress).reverse();
  for (const hop of hops) {
    if (!trust.has(client) || !isAddress(hop)) break;
    client = hop;
  }
  return client;
}

/**
 * The rate-limit key of an address: IPv6 by its /64 (one host is usually given a whole /64 and can pick any
 * address in it), anything else as it is.
 */
export function clientKey(address: string): string {
  const a = normalizeAddress(address);
  if (!a.includes(':') || !IPV6.test(a)) return a;
  const [head = '', tail = ''] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** GLIMPSE_TRUSTED_PROXIES: comma-separated addresses of the proxies in front (none by default). */
export function readTrustedProxies(value: string | undefined, problems: string[]): string[] {
  const list = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const bad = list.filter((a) => !isAddress(normalizeAddress(a)));
  if (bad.length > 0) {
    problems.push(`GLIMPSE_TRUSTED_PROXIES must list IP addresses, comma-separated (not "${bad[0]!.slice(0, 60)}")`);
  }
  return list.filter((a) => isAddress(normalizeAddress(a))).map(normalizeAddress);
}
