/**
 * The test runs' freePort: outside the kernel's ephemeral range where it leaves room, since ports
 * in it can be taken by any outgoing connection between the probe and the server's bind; the
 * kernel's choice where it leaves none.
 */
import { createServer } from 'node:net';
import { freePort } from '../support/free-port';

it('picks ports below or above the ephemeral range, never in it', async () => {
  for (const range of [
    [32_768, 60_999],
    [1_024, 50_000],
  ] as [number, number][]) {
    for (let n = 0; n < 20; n++) {
      const port = await freePort(range);
      expect(port < range[0] || port > range[1]).toBe(true);
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThanOrEqual(65_535);
    }
  }
});

it('falls back to a port the kernel picks when the range leaves no room', async () => {
  const port = await freePort([1_024, 65_535]);
  expect(port).toBeGreaterThan(0);
  // And the port is free: it can be listened on.
  const server = createServer();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  await new Promise<void>((done) => server.close(() => done()));
});
