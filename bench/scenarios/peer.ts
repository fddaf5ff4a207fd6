/**
 * (7) The peer: our decider run through Emmett's DeciderCommandHandler on Emmett's SQLite event
 * store (bench/peers/emmett), with the workload of scenario (2). The peer has its own package.json
 * so that the service's install stays lean; its dependencies are installed here on first use.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const PEER_DIR = join(__dirname, '../../../bench/peers/emmett');

export interface PeerResult {
  spends: number;
  seconds: number;
  spendsPerSecond: number;
  failed: number;
  failures: Record<string, number>;
  stoppedEarly: boolean;
  durability: string;
  check?: { consumedEventsStored: number; streamsWedged: number };
}

function installPeer(log: (message: string) => void): void {
  if (existsSync(join(PEER_DIR, 'node_modules/@event-driven-io/emmett-sqlite'))) return;
  log('installing the Emmett peer (bench/peers/emmett, npm ci; sqlite3 may build from source)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: PEER_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
}

export function peerBench(
  options: { workspaces: number; spends: number; concurrency: number; timeLimitSeconds: number },
  log: (message: string) => void,
): PeerResult {
  installPeer(log);
  const args = [
    join(PEER_DIR, 'run.mjs'),
    '--workspaces',
    String(options.workspaces),
    '--spends',
    String(options.spends),
    '--concurrency',
    String(options.concurrency),
    '--time-limit',
    String(options.timeLimitSeconds),
    // Emmett's default pool opens a connection per operation; with 1,000 commands in flight nearly
    // every one fails (SQLITE_ERROR) after minutes of busy waits. One connection lent to one
    // operation at a time is the configuration under which Emmett's store completes this workload.
    '--pool',
    'serial',
  ];
  const output = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(output.trim().split('\n').pop() as string) as PeerResult;
}
