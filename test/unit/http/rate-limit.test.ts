/** The limiter both servers share (src/http/rate-limit.ts) and the client key (src/http/client.ts), without a server. */
import { describe, expect, it } from 'vitest';
import { clientAddress, clientKey, readTrustedProxies } from '../../../src/http/client';
import { createRateLimiter } from '../../../src/http/rate-limit';

describe('createRateLimiter', () => {
  it('lets `max` through per window, then says how long to wait; a new window lets requests through again', () => {
    let t = 1_000_000;
    const limit = createRateLimiter({ max: 3, windowMs: 60_000 }, () => t);
    expect([limit('a'), limit('a'), limit('a')]).toEqual([0, 0, 0]);
    expect(limit('a')).toBe(60);
    expect(limit('b')).toBe(0);
    t += 45_500;
    expect(limit('a')).toBe(15);
    t += 14_500;
    expect(limit('a')).toBe(0);
  });

  it('0 is no limit, and keeps nothing', () => {
    const limit = createRateLimiter({ max: 0, windowMs: 60_000 }, () => 0);
    for (let i = 0; i < 1000; i++) expect(limit(`k${i}`)).toBe(0);
    expect(limit.size).toBe(0);
  });

  it('stays bounded under many distinct keys in one window, and forgets ended windows', () => {
    let t = 0;
    const limit = createRateLimiter({ max: 5, windowMs: 60_000, maxKeys: 1_000 }, () => t);
    for (let i = 0; i < 200_000; i++) limit(`client-${i}`);
    expect(limit.size).toBeLessThanOrEqual(1_000);
    // The most recent keys are still counted.
    for (let i = 0; i < 5; i++) limit('client-199999');
    expect(limit('client-199999')).toBeGreaterThan(0);
    t += 60_000;
    limit('late');
    expect(limit.size).toBe(1);
  });

  it('the default bound holds too (100,000 keys)', () => {
    const limit = createRateLimiter({ max: 1, windowMs: 60_000 }, () => 5);
    for (let i = 0; i < 150_000; i++) limit(`k${i}`);
    expect(limit.size).toBe(100_000);
  });
});

describe('the client address and key', () => {
  it('ignores X-Forwarded-For unless the socket is a trusted proxy', () => {
    expect(clientAddress('198.51.100.7', '203.0.113.1', [])).toBe('198.51.100.7');
    expect(clientAddress('198.51.100.7', '203.0.113.1', ['127.0.0.1'])).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', '203.0.113.1', ['127.0.0.1'])).toBe('203.0.113.1');
  });

  it('takes the nearest untrusted hop: entries the client wrote further left prove nothing', () => {
    const trusted = ['127.0.0.1', '10.0.0.2'];
    expect(clientAddress('127.0.0.1', '1.2.3.4, 203.0.113.9, 10.0.0.2', trusted)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:127.0.0.1', 'garbage, 203.0.113.9', trusted)).toBe('203.0.113.9');
    // A malformed nearest hop: the request is keyed by the last trusted proxy, never by what the client chose.
    expect(clientAddress('127.0.0.1', '203.0.113.9, not-an-ip', trusted)).toBe('127.0.0.1');
  });

  it('keys IPv6 by its /64 and IPv4-mapped addresses as IPv4', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('::ffff:203.0.113.5')).toBe('203.0.113.5');
    expect(clientKey('203.0.113.5')).toBe('203.0.113.5');
  });

  it('GLIMPSE_TRUSTED_PROXIES must be addresses', () => {
    const problems: string[] = [];
    expect(readTrustedProxies('127.0.0.1, ::1', problems)).toEqual(['127.0.0.1', '::1']);
    expect(problems).toEqual([]);
    readTrustedProxies('127.0.0.1, proxy.lan', problems);
    expect(problems[0]).toMatch(/GLIMPSE_TRUSTED_PROXIES .*proxy\.lan/);
  });
});
