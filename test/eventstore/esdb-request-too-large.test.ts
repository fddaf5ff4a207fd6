/**
 * An append larger than gRPC's receive limit (the node's, or a proxy's) is refused before it is
 * read, with RESOURCE_EXHAUSTED: nothing is written and every retry is refused alike, so it is
 * the port's AppendTooLarge (LIMIT_EXCEEDED to the caller), not a "may have been recorded".
 */
import { randomUUID } from 'node:crypto';
import { openEsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { AppendTooLarge } from '../../src/eventstore/port';
import { startEsdbTestServer } from '../support/esdb-test-server/server';

it('refuses an append over the gRPC receive limit as too large, with nothing written', async () => {
  // The test server's MaxAppendSize above its gRPC receive limit (4 MiB): gRPC refuses first.
  const node = await startEsdbTestServer({ chatterIntervalMs: 0, maxAppendSize: 64 * 1024 * 1024 });
  const store = openEsdbEventStore({ connectionString: node.url });
  const stream = `big-${randomUUID()}`;
  try {
    const attempt = () =>
      store.appendToStream(stream, [{ type: 'Big', data: { blob: 'x'.repeat(5 * 1024 * 1024) } }], {
        expectedRevision: 'any',
      });
    for (let i = 0; i < 2; i += 1) await expect(attempt()).rejects.toBeInstanceOf(AppendTooLarge);
    expect(node.log.stream(stream)).toBeUndefined();
  } finally {
    await store.close();
    await node.close();
  }
});
