/** (4) Replay: rebuild every read model and reaction derivation over a large log, in a process of its own. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function replayBench(dataDir: string): {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssMb: number;
} {
  const output = execFileSync(process.execPath, [join(__dirname, 'replay-child.js'), dataDir], { encoding: 'utf8' });
  return JSON.parse(output) as { events: number; seconds: number; eventsPerSecond: number; peakRssMb: number };
}
