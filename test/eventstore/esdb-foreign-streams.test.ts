/**
 * Another application's JSON events under a prefix the service follows (`reactions-comment-43`)
 * are read, and their stream may be deleted by their owner (a soft delete, `$maxCount`, `$maxAge`):
 * that is not the log going back. Only a workspace's stream, which this service alone writes and
 * never deletes, vouches for the log: neither a dropped subscription (LogWentBack) nor a restart (a
 * rebuild of every read model) takes the foreign stream's deletion for a restored backup.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PROJECTIONS } from '../../projections';
import { openReadModelDb } from '../../projections/read-model-db';
import { ProjectionRunner } from '../../projections/runner';
import { openEsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { FOLLOWED_STREAM_PREFIXES, OWN_STREAM_PREFIXES } from '../../src/server/stores';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import type { ProposedEvent } from '../support/esdb-test-server/in-memory-log';
import { startEsdbTestServer } from '../support/esdb-test-server/server';
import { granted } from '../support/event-log';

const json = (type: string, data: unknown): ProposedEvent => ({
  id: randomUUID(),
  type,
  contentType: 'application/json',
  data: Buffer.from(JSON.stringify(data)),
  customMetadata: new Uint8Array(),
});
// What a soft delete (or $tb/$maxCount/$maxAge) of the foreign stream looks like to a stream read.
const deleteStream = (log: unknown, name: string) => (log as { streams: Map<string, unknown> }).streams.delete(name);

it('goes on after a drop when the last event it delivered was of a foreign stream deleted since', async () => {
  const node = await startEsdbTestServer({ chatterIntervalMs: 0 });
  // As the server opens it (stores.ts): only workspace streams vouch for the log.
  const store = openEsdbEventStore({
    connectionString: node.url,
    streamPrefixes: FOLLOWED_STREAM_PREFIXES,
    ownStreamPrefixes: OWN_STREAM_PREFIXES,
    resubscribe: { initialDelayMs: 10, maxDelayMs: 50 },
  });
  try {
    await store.appendToStream(workspaceStreamName('ws-1'), [granted('ws-1', 1)], { expectedRevision: 'any' });
    const foreign = 'reactions-comment-43';
    node.log.append(foreign, { kind: 'any' }, [json('LikeAdded', { by: 'x' })]);
    const iterator = store.subscribeToAll()[Symbol.asyncIterator]();
    const a = await iterator.next();
    const b = await iterator.next();
    expect((b.value as { streamName: string }).streamName).toBe(foreign); // delivered: JSON object
    expect(a.done).toBe(false);
    deleteStream(node.log, foreign);
    node.dropSubscriptions();
    await store.appendToStream(workspaceStreamName('ws-1'), [granted('ws-1', 2)], { expectedRevision: 'any' });
    const next = await iterator.next();
    expect(next.value).toMatchObject({ streamName: workspaceStreamName('ws-1'), revision: 1n });
  } finally {
    await store.close();
    await node.close();
  }
});

it('rebuilds nothing at a restart when a foreign stream read since the checkpoint was deleted', async () => {
  const node = await startEsdbTestServer({ chatterIntervalMs: 0 });
  const store = openEsdbEventStore({ connectionString: node.url, streamPrefixes: FOLLOWED_STREAM_PREFIXES });
  const dir = mkdtempSync(join(tmpdir(), 'review2-'));
  const db = openReadModelDb(join(dir, 'read-models.sqlite'));
  try {
    for (let i = 0; i < 3; i++) {
      await store.appendToStream(workspaceStreamName('ws-1'), [granted('ws-1', i)], { expectedRevision: 'any' });
    }
    const foreign = 'reactions-comment-43';
    node.log.append(foreign, { kind: 'any' }, [json('LikeAdded', { by: 'x' })]);
    let runner = new ProjectionRunner(store, db, PROJECTIONS);
    await runner.start();
    await runner.stop();
    // The checkpoint vouches by the last workspace event, not by the foreign one after it.
    const row = db.prepare("SELECT event FROM projection_checkpoints WHERE name = 'credit-ledger'").get() as {
      event: string;
    };
    expect(JSON.parse(row.event)).toMatchObject({ stream: workspaceStreamName('ws-1'), revision: '2' });

    deleteStream(node.log, foreign);
    const lines: { msg: string; reason?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as never) });
    runner = new ProjectionRunner(store, db, PROJECTIONS, { logger });
    await runner.start();
    await runner.stop();
    expect(lines.map((line) => line.reason)).toEqual([]);
  } finally {
    db.close();
    await store.close();
    await node.close();
  }
});

it('stops with an error, rather than skip it, at an event of a workspace stream that is not JSON', async () => {
  const node = await startEsdbTestServer({ chatterIntervalMs: 0 });
  const store = openEsdbEventStore({
    connectionString: node.url,
    streamPrefixes: FOLLOWED_STREAM_PREFIXES,
    ownStreamPrefixes: OWN_STREAM_PREFIXES,
  });
  try {
    await store.appendToStream(workspaceStreamName('ws-1'), [granted('ws-1', 1)], { expectedRevision: 'any' });
    const start = await store.headPosition();
    const iterator = store.subscribeToAll(start === undefined ? {} : { after: start })[Symbol.asyncIterator]();
    // An operator's corrective event written with the JSON flag off: the read models must not miss it unsaid.
    node.log.append(workspaceStreamName('ws-1'), { kind: 'any' }, [
      { ...json('CreditsGranted', {}), contentType: 'application/octet-stream', data: Buffer.from('{}') },
    ]);
    await expect(store.readAll(start === undefined ? {} : { after: start })).rejects.toThrow(/is not JSON/);
    await expect(iterator.next()).rejects.toThrow(/is not JSON/);
  } finally {
    await store.close();
    await node.close();
  }
});
