/**
 * (5) Long stream: the first command on a workspace with a long history, each from a cold start in
 * a fresh process: with no snapshot yet (the whole stream is folded, and a snapshot taken), from the
 * snapshot alone, and from the snapshot plus the most events a snapshot can lag behind before the
 * next is taken (snapshotEvery - 1).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fillStore } from '../fill-store';

export interface ColdStart {
  eventsBefore: number;
  eventsAfterSnapshot: number | undefined;
  openMs: number;
  firstCommandMs: number;
}

const SNAPSHOT_LAG = 999;

function coldStart(dataDir: string, behind?: number): ColdStart {
  const args = [
    join(__dirname, 'long-stream-child.js'),
    dataDir,
    'ws-0',
    ...(behind === undefined ? [] : [String(behind)]),
  ];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as ColdStart;
}

export async function longStreamBench(
  dataDir: string,
  events: number,
): Promise<{ withoutSnapshot: ColdStart; fromSnapshot: ColdStart; snapshotLagging: ColdStart }> {
  await fillStore(join(dataDir, 'events.sqlite'), { workspaces: 1, events, spanMs: 365 * 86_400_000 });
  const withoutSnapshot = coldStart(dataDir);
  const fromSnapshot = coldStart(dataDir, SNAPSHOT_LAG);
  const snapshotLagging = coldStart(dataDir);
  return { withoutSnapshot, fromSnapshot, snapshotLagging };
}
