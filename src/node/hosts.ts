/**
 * The names a server bound to every interface (HOST=0.0.0.0) is reached by without configuration: the
 * machine's host name and its interface addresses. A DNS-rebinding page arrives with a name of its own.
 */
import { hostname, networkInterfaces } from 'node:os';
import { isWildcardBind } from '../http/hosts';

export function machineNames(bindHost: string): string[] {
  if (!isWildcardBind(bindHost)) return [];
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
  return [hostname(), ...addresses];
}
