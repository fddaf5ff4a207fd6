/**
 * What a client address counts as for the rate limits: an IPv4 address, or an IPv6 peer's /64,
 * which one subscriber holds whole (counting each of its 2^64 addresses alone would limit nothing).
 */
import type { IncomingMessage } from 'node:http';
import { addressOf, createRateLimits } from '../../src/server/rate-limits';

const from = (remoteAddress: string | undefined) =>
  ({ socket: { remoteAddress } }) as unknown as Pick<IncomingMessage, 'socket'> & IncomingMessage;

it('counts an IPv4 address alone, an IPv4-mapped one as IPv4, and an IPv6 address by its /64', () => {
  expect(addressOf(from('203.0.113.7'))).toBe('203.0.113.7');
  expect(addressOf(from('::ffff:203.0.113.7'))).toBe('203.0.113.7');
  expect(addressOf(from('2001:db8:1:2:aaaa::1'))).toBe('2001:db8:1:2::/64');
  expect(addressOf(from('2001:db8:1:2:ffff:ffff:ffff:fffe'))).toBe('2001:db8:1:2::/64');
  expect(addressOf(from('2001:db8:1:3::1'))).toBe('2001:db8:1:3::/64');
  expect(addressOf(from('::1'))).toBe('0:0:0:0::/64');
  expect(addressOf(from(undefined))).toBe('unknown');
});

it('refuses a client that spreads its requests over the addresses of its /64', async () => {
  const limits = createRateLimits({
    windowSeconds: 10,
    graphqlPerAddress: 3,
    graphqlPerToken: 0,
    webhookPerAddress: 0,
  });
  const answers = [];
  for (let host = 1; host <= 4; host++) answers.push(await limits.graphql(from(`2001:db8:1:2::${host}`), undefined));
  expect(answers.slice(0, 3)).toEqual([undefined, undefined, undefined]);
  expect(answers[3]).toMatchObject({ scope: 'address', limit: 3 });
  // Another /64 has a count of its own.
  expect(await limits.graphql(from('2001:db8:1:3::1'), undefined)).toBeUndefined();
});
