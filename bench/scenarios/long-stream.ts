/**
 * (5) Long stream: the first command on a workspace with a long history, each from a cold start in
 * a fresh process: with no snapshot yet (the whole stream is folded), after a clean shutdown (which
 * snapshots the workspace), and after a crash that left the snapshot as far behind as it gets on
 * such a workspace (one event short of the next snapshot). The last two are medians of three runs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DEFAULT_SNAPSHOT_EVERY } from '../../src/commands/command-handler';
import { fillStore } from '../fill-store';

export interface ColdStart {
  eventsBefore: number;
  eventsAfterSnapshot: number | undefined;
  openMs: number;
  firstCommandMs: number;
}

/** The most a snapshot lags behind a workspace this quiet: one event short of the next snapshot. */
const SNAPSHOT_LAG = DEFAULT_SNAPSHOT_EVERY - 1;

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
  const afterShutdown: ColdStart[] = [];
  const afterCrash: ColdStart[] = [];
  for (let run = 0; run < 3; run++) {
    afterShutdown.push(coldStart(dataDir, SNAPSHOT_LAG));
    afterCrash.push(coldStart(dataDir));
  }
  return { withoutSnapshot, fromSnapshot: median(afterShutdown), snapshotLagging: median(afterCrash) };
}

const median = (runs: ColdStart[]): ColdStart =>
  [...runs].sort((a, b) => a.firstCommandMs - b.firstCommandMs)[Math.floor(runs.length / 2)] as ColdStart;
