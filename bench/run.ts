/**
 * `npm run bench`: every scenario on the embedded store, in one run, so that ratios compare like
 * with like. Prints one table and writes bench/results.json. BENCH_SCALE (default 1) scales the
 * event counts down for a quick look, e.g. BENCH_SCALE=0.1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ceilingBench } from './scenarios/ceiling';
import { consumeBench } from './scenarios/commands';
import { httpBench } from './scenarios/http';
import { longStreamBench } from './scenarios/long-stream';
import { peerBench } from './scenarios/peer';
import { replayBench } from './scenarios/replay';
import { startupBench } from './scenarios/startup';
import { fillStore } from './fill-store';
import { round, withTempDir } from './support';

const scale = Number(process.env.BENCH_SCALE ?? '1');
const scaled = (count: number): number => Math.max(1000, Math.round(count * scale));

interface Row {
  scenario: string;
  result: string;
  target: string;
  met: boolean | undefined;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const results: Record<string, unknown> = {
    machine: { node: process.version, cpus: 2 },
    scale,
    at: new Date().toISOString(),
  };
  const log = (message: string): void => console.error(`· ${message}`);

  log('ceiling: raw batched appends');
  const ceiling = await ceilingBench({ events: scaled(200_000), batch: 1_000 });
  results.ceiling = ceiling;
  rows.push({
    scenario: '(1) ceiling: raw appends, 1,000 per commit',
    result: `${ceiling.eventsPerSecond.toLocaleString('en-US')} events/s`,
    target: '-',
    met: undefined,
  });

  log('commands across 1,000 workspaces');
  const across = await consumeBench({ workspaces: 1000, spends: scaled(100_000), concurrency: 1000 });
  log('commands on one workspace');
  const hot = await consumeBench({ workspaces: 1, spends: scaled(50_000), concurrency: 1000 });
  results.commands = { across, hot };
  const ratio = (value: number): number => round(value / ceiling.eventsPerSecond, 2);
  rows.push({
    scenario: '(2) ConsumeCredits, 1,000 workspaces',
    result: `${across.spendsPerSecond.toLocaleString('en-US')} spends/s (${ratio(across.spendsPerSecond)} of ceiling)`,
    target: '≥ 20,000/s and ≥ 0.6',
    met: across.spendsPerSecond >= 20_000 && ratio(across.spendsPerSecond) >= 0.6,
  });
  rows.push({
    scenario: '(2) ConsumeCredits, one workspace',
    result: `${hot.spendsPerSecond.toLocaleString('en-US')} spends/s (${ratio(hot.spendsPerSecond)} of ceiling)`,
    target: '≥ 10,000/s and ≥ 0.6',
    met: hot.spendsPerSecond >= 10_000 && ratio(hot.spendsPerSecond) >= 0.6,
  });

  log('peer: the same decider through Emmett, across workspaces and on one');
  const peerLimit = Number(process.env.BENCH_PEER_SECONDS ?? '20');
  const peerAcross = peerBench(
    { workspaces: 1000, spends: scaled(100_000), concurrency: 1000, timeLimitSeconds: peerLimit },
    log,
  );
  const peerHot = peerBench(
    { workspaces: 1, spends: scaled(50_000), concurrency: 1000, timeLimitSeconds: peerLimit },
    log,
  );
  results.peer = { across: peerAcross, hot: peerHot };
  for (const [name, ours, peer] of [
    ['1,000 workspaces', across, peerAcross],
    ['one workspace', hot, peerHot],
  ] as const) {
    const failed =
      peer.failed > 0
        ? `, ${peer.failed.toLocaleString('en-US')} refused (${Object.keys(peer.failures).join(', ')})`
        : '';
    rows.push({
      scenario: `(7) peer: Emmett's command handler and SQLite store, ${name}`,
      result: `${peer.spendsPerSecond.toLocaleString('en-US')} spends/s${failed}; ours ${peer.spendsPerSecond > 0 ? `${round(ours.spendsPerSecond / peer.spendsPerSecond, 1)}×` : 'ahead'}`,
      target: 'ahead of the peer',
      met: ours.spendsPerSecond > peer.spendsPerSecond,
    });
  }

  log('HTTP with autocannon');
  const http = await withTempDir('http', (dir) => httpBench(dir, Number(process.env.BENCH_HTTP_SECONDS ?? '5')));
  results.http = http;
  const base = http.typename.requestsPerSecond;
  for (const [name, target, min] of [
    ['typename', 'the ceiling', 0],
    ['workspaceCredits', '≥ 0.8 of ceiling, p99 ≤ 50 ms', 0.8],
    ['consumeCredits', '≥ 0.6 of ceiling, p99 ≤ 50 ms', 0.6],
  ] as const) {
    const r = http[name];
    const share = round(r.requestsPerSecond / base, 2);
    rows.push({
      scenario: `(3) HTTP ${name === 'typename' ? '{ __typename }' : name}`,
      result: `${r.requestsPerSecond.toLocaleString('en-US')} req/s (${share}), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors + r.non2xx}`,
      target,
      met: min === 0 ? undefined : share >= min && r.p99Ms <= 50 && r.errors + r.non2xx === 0,
    });
  }

  await withTempDir('replay', async (dir) => {
    const events = scaled(1_000_000);
    log(`filling a log of ${events.toLocaleString('en-US')} events`);
    await fillStore(join(dir, 'events.sqlite'), { workspaces: 1000, events, spanMs: 365 * 86_400_000 });
    log('replaying every projection (balance, ledger, purchases)');
    const replay = replayBench(dir);
    results.replay = replay;
    rows.push({
      scenario: `(4) replay, ${replay.events.toLocaleString('en-US')} events`,
      result: `${replay.eventsPerSecond.toLocaleString('en-US')} events/s, peak RSS ${replay.peakRssMb} MB`,
      target: '≥ 150,000 events/s, ≤ 300 MB',
      met: replay.eventsPerSecond >= 150_000 && replay.peakRssMb <= 300,
    });
    log('startup on the projected log');
    const startup = await startupBench(dir);
    results.startup = startup;
    rows.push({
      scenario: `(6) startup to /readyz, ${replay.events.toLocaleString('en-US')} events projected`,
      result: `${round(startup.seconds, 2)} s`,
      target: '≤ 2 s',
      met: startup.seconds <= 2,
    });
  });
  await withTempDir('long-stream', async (dir) => {
    const events = scaled(1_000_000);
    log(`long stream: ${events.toLocaleString('en-US')} events on one workspace, cold starts`);
    const long = await longStreamBench(dir, events);
    results.longStream = long;
    const { withoutSnapshot, fromSnapshot, snapshotLagging } = long;
    rows.push({
      scenario: `(5) first command on a ${withoutSnapshot.eventsBefore.toLocaleString('en-US')}-event stream, cold start`,
      result:
        `${fromSnapshot.firstCommandMs} ms from its snapshot, ${snapshotLagging.firstCommandMs} ms with the snapshot ` +
        `${snapshotLagging.eventsAfterSnapshot ?? 0} events behind (${round(withoutSnapshot.firstCommandMs / 1000, 1)} s folding the whole stream)`,
      target: '≤ 20 ms',
      met: Math.max(fromSnapshot.firstCommandMs, snapshotLagging.firstCommandMs) <= 20,
    });
  });

  results.rows = rows;
  writeFileSync(join(__dirname, '../../bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const table = [
    '| scenario | result | target | met |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${row.result} | ${row.target} | ${row.met === undefined ? '' : row.met ? 'yes' : 'no'} |`,
    ),
  ].join('\n');
  console.log(table);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
