/**
 * creditBalanceAt over a stream whose clock stepped back: a spend recorded after the grant it drew
 * on, but stamped earlier (a server restarted with its clock behind, or two replicas whose clocks
 * differ). The balance at an instant is the stream up to the first event stamped later: never the
 * spend without its grant, which folded would be an internal error for ever.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CreditBalanceAtDocument } from '../generated/graphql';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { expectData } from '../support/graphql-client';
import { newDataDir, startServer, tokenFor } from '../support/server-process';
import { consumed, draw, granted } from '../domain/builders';

const HOUR = 60 * 60 * 1000;

it('folds the stream up to the first event stamped after the instant', async () => {
  const dataDir = newDataDir();
  const workspaceId = 'ws-clock-step';
  const grantedAt = new Date(Date.now() - 2 * HOUR);
  const spentAt = new Date(grantedAt.getTime() - 5 * HOUR); // recorded after the grant, stamped before
  const later = new Date(grantedAt.getTime() + HOUR);
  const events = [
    granted({ grantId: 'grant-1', credits: 100, grantedAt }),
    consumed({
      credits: 8,
      drawdown: [draw('grant-1', 'PROMOTIONAL', 8)],
      availableAfter: 92,
      consumedAt: spentAt,
    }),
    granted({ grantId: 'grant-2', idempotencyKey: 'promo-key-2', credits: 50, grantedAt: later }),
  ].map((event) => ({ id: randomUUID(), type: event.type, data: { ...event.data, workspaceId } }));
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  await store.appendToStream(workspaceStreamName(workspaceId), events, { expectedRevision: 'no_stream' });
  await store.close();

  const server = await startServer({ dataDir });
  try {
    const at = async (instant: Date) =>
      (
        await expectData(
          server.url,
          CreditBalanceAtDocument,
          { workspaceId, at: instant.toISOString() },
          tokenFor(workspaceId, 'MEMBER'),
        )
      ).creditBalanceAt.available;
    // Between the spend's stamp and the grant's: the stream's first event is later, so nothing yet.
    expect(await at(new Date(spentAt.getTime() + HOUR))).toBe(0);
    // From the grant on: the grant and the spend that followed it; then the second grant.
    expect(await at(new Date(grantedAt.getTime() + 1))).toBe(92);
    expect(await at(new Date(later.getTime() + 1))).toBe(142);
  } finally {
    await server.stop();
  }
});
