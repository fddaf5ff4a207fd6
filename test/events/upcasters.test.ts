/**
 * History written by older releases replays: each stored event is upcast to its current shape on
 * read. The fixture is the event log that release 0.1 of this service wrote.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import type { RecordedEvent } from '../../src/eventstore/port';
import { WORKSPACE_CREDITS_EVENT_TYPES } from '../../src/domain/events';
import { currentSchemaVersion, EVENT_SCHEMAS, upcast } from '../../src/events/upcasters';
import { toWorkspaceCreditsEvent, workspaceStreamName } from '../../src/events/workspace-stream';
import {
  ConsumeCreditsDocument,
  CreditLedgerDocument,
  PurchaseCreditsDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { runCreditsCli } from '../support/cli';
import { expectData } from '../support/graphql-client';
import { adminToken, newDataDir, startServer } from '../support/server-process';

interface FixtureLine {
  eventId: string;
  streamName: string;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}
const RELEASE_0_1 = readFileSync(resolve(__dirname, '../fixtures/release-0.1-events.ndjson'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as FixtureLine);

const recorded = (line: FixtureLine): RecordedEvent => ({
  id: line.eventId,
  streamName: line.streamName,
  type: line.type,
  schemaVersion: line.schemaVersion,
  data: line.data,
  metadata: line.metadata,
  revision: 0n,
  position: 1n,
  recordedAt: new Date(0),
});

describe('upcast', () => {
  const purchaseV1 = RELEASE_0_1.find((line) => line.type === 'CreditsPurchased') as FixtureLine;

  it('lifts a version 1 purchase to version 2: paid outside Stripe, the payment reference kept', () => {
    expect(purchaseV1.schemaVersion).toBe(1);
    expect(purchaseV1.data.payment).toBeUndefined();
    const current = upcast(recorded(purchaseV1));
    expect(current.schemaVersion).toBe(2);
    expect(current.data).toEqual({ ...purchaseV1.data, payment: { provider: 'MANUAL', reference: 'INV-2026-0042' } });
    expect(toWorkspaceCreditsEvent(recorded(purchaseV1))?.data).toEqual(current.data);
  });

  it('lifts a version 1 settle to version 2: the lists left out when nothing came from the balance', () => {
    const part = (grantId: string, credits: number) => ({ grantId, source: 'PURCHASED', credits });
    const v1 = (fromBalance: unknown[]) =>
      recorded({
        eventId: 'settle-1',
        streamName: workspaceStreamName('acme'),
        type: 'CreditHoldSettled',
        schemaVersion: 1,
        data: {
          workspaceId: 'acme',
          holdId: 'hold-1',
          credits: 300,
          drawdown: [part('grant-1', 300)],
          fromHold: [part('grant-1', fromBalance.length ? 200 : 300)],
          fromBalance,
          returned: [],
        },
        metadata: {},
      });
    const held = upcast(v1([]));
    expect(held.schemaVersion).toBe(2);
    expect(held.data).toEqual({
      workspaceId: 'acme',
      holdId: 'hold-1',
      credits: 300,
      drawdown: [part('grant-1', 300)],
      returned: [],
    });
    const withExcess = v1([part('grant-1', 100)]);
    expect(upcast(withExcess).data).toEqual(withExcess.data);
    expect(upcast(withExcess).schemaVersion).toBe(2);
  });

  it('leaves current events and foreign events as they are', () => {
    const consumed = recorded(RELEASE_0_1.find((line) => line.type === 'CreditsConsumed') as FixtureLine);
    expect(upcast(consumed)).toBe(consumed);
    const foreign = { ...consumed, type: 'SomethingElse', schemaVersion: 1 };
    expect(upcast(foreign)).toBe(foreign);
  });

  it('refuses a version it has no upcaster for, rather than guess', () => {
    const broken = { ...recorded(purchaseV1), schemaVersion: 0 };
    expect(() => upcast(broken)).toThrow(/No upcaster for CreditsPurchased version 0/);
  });

  it('knows every event type the domain emits', () => {
    expect(Object.keys(EVENT_SCHEMAS).sort()).toEqual([...WORKSPACE_CREDITS_EVENT_TYPES].sort());
    expect(currentSchemaVersion('CreditsPurchased')).toBe(2);
    expect(currentSchemaVersion('CreditHoldSettled')).toBe(2);
  });
});

it('serves, extends and replays a log written by release 0.1', async () => {
  const dataDir = newDataDir();
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  for (const [revision, line] of RELEASE_0_1.entries()) {
    await store.appendToStream(
      line.streamName,
      [
        {
          id: line.eventId,
          type: line.type,
          schemaVersion: line.schemaVersion,
          data: line.data,
          metadata: line.metadata,
        },
      ],
      { expectedRevision: revision === 0 ? 'no_stream' : BigInt(revision - 1) },
    );
  }
  await store.close();

  const server = await startServer({ dataDir });
  try {
    const admin = adminToken();
    const workspaceId = 'fixture-ws';
    const balance = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, admin)).workspaceCredits;
    expect(balance).toMatchObject({
      purchased: { granted: 500, consumed: 135, remaining: 365 },
      promotional: { granted: 100, consumed: 100 },
    });
    const ledger = (await expectData(server.url, CreditLedgerDocument, { workspaceId }, admin)).creditLedger;
    expect(ledger.edges.map((edge) => [edge.node.type, edge.node.balanceAfter])).toEqual([
      ['CONSUMPTION', 365],
      ['CONSUMPTION', 400],
      ['PROMOTIONAL_GRANT', 1600],
      ['PURCHASE', 1500],
      ['PLAN_ALLOWANCE', 1000],
    ]);

    // The decider reads the old purchase too: recording it again is recognised as a retry.
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-500', paymentReference: 'INV-2026-0042' } },
      admin,
    );
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-500', paymentReference: 'INV-2026-0099' } },
      admin,
    );
    // Spends draw from the old purchase's grant like from any other (allowance and promo are used up).
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 5, idempotencyKey: 'pe-after-upgrade' } },
      admin,
    );
    const after = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, admin)).workspaceCredits;
    expect(after.purchased).toMatchObject({ granted: 1000, consumed: 170, remaining: 830 });
  } finally {
    await server.stop();
  }

  const reopened = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  const versions: [string, number][] = [];
  for await (const event of reopened.readStream(workspaceStreamName('fixture-ws')))
    versions.push([event.type, event.schemaVersion]);
  await reopened.close();
  expect(versions.filter(([type]) => type === 'CreditsPurchased')).toEqual([
    ['CreditsPurchased', 1],
    ['CreditsPurchased', 2],
  ]);

  const { stdout } = runCreditsCli(dataDir, [
    'replay',
    '--projection',
    resolve(__dirname, '../fixtures/analyst-projection.js'),
    '--no-progress',
  ]);
  expect(JSON.parse(stdout)).toMatchObject({ events: 7, purchasesByProvider: { MANUAL: 2 } });
});
