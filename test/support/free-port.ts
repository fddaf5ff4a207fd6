import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';

/**
 * A port nothing listens on right now, for a server whose URL must be known before it starts.
 *
 * It is taken from below the kernel's ephemeral range: a port that `listen(0)` hands out is in that
 * range, and between the probe closing it and the server binding it, any outgoing connection of
 * this busy test run can take it as its local port (seen in CI as EADDRINUSE).
 */
export async function freePort(): Promise<number> {
  const ephemeralStart = Number(readFirstWord('/proc/sys/net/ipv4/ip_local_port_range') ?? 32768);
  const lowest = 10_000;
  for (let tries = 0; tries < 100; tries++) {
    const port = lowest + Math.floor(Math.random() * Math.max(1, ephemeralStart - lowest));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port below ${ephemeralStart} after 100 tries`);
}

function readFirstWord(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/)[0];
  } catch {
    return undefined;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const probe = createNetServer();
    probe.once('error', () => answer(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => answer(true)));
  });
}
