import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';

/**
 * A port nothing listens on right now, for a server whose URL must be known before it starts.
 *
 * It is taken from outside the kernel's ephemeral range where there is room (below it, or else
 * above it): a port that `listen(0)` hands out is in that range, and between the probe closing it
 * and the server binding it, any outgoing connection of this busy test run can take it as its local
 * port (seen in CI as EADDRINUSE). Ports outside it are only taken by whoever binds them; a random
 * one among thousands rarely meets another test's. Where the range leaves no room, the kernel's
 * choice is all there is.
 */
export async function freePort(range: [number, number] = ephemeralRange()): Promise<number> {
  const [start, end] = range;
  const spans = [
    [10_000, start],
    [end + 1, 65_536],
  ].filter(([from, to]) => (to as number) - (from as number) >= 1_000) as [number, number][];
  const size = spans.reduce((sum, [from, to]) => sum + (to - from), 0);
  for (let tries = 0; tries < 100 && size > 0; tries++) {
    let pick = Math.floor(Math.random() * size);
    for (const [from, to] of spans) {
      if (pick < to - from) {
        if ((await listening(from + pick)) !== undefined) return from + pick;
        break;
      }
      pick -= to - from;
    }
  }
  const chosen = await listening(0);
  if (chosen === undefined) throw new Error('no port to listen on');
  return chosen;
}

/** The kernel's ephemeral port range (Linux's default when it cannot be read). */
function ephemeralRange(): [number, number] {
  try {
    const [start, end] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(start) && Number.isInteger(end)) return [start as number, end as number];
  } catch {
    // Not Linux: the default below.
  }
  return [32_768, 60_999];
}

/** Listens on the port (0: one the kernel picks) and closes at once: the port, or undefined when taken. */
function listening(port: number): Promise<number | undefined> {
  return new Promise((answer) => {
    const probe = createNetServer();
    probe.once('error', () => answer(undefined));
    probe.listen(port, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => answer(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}
