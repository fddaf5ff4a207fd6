/**
 * Holds over HTTP against the real server: a burst of reserves and spends on one workspace never
 * overdraws and every hold granted settles; a hold outlives kill -9; a hold stops reserving at its
 * instant with nothing written, and the hold-expiry reaction then writes it; refusals carry their
 * codes; subscribers hear of holds.
 */
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { LEASE_STREAM } from '../../reactions/lease';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import {
  ConsumeCreditsDocument,
  CreditHoldsDocument,
  ExtendCreditHoldDocument,
  GrantCreditsDocument,
  HeldBalanceAtDocument,
  HeldBalanceDocument,
  HoldLedgerDocument,
  ReleaseCreditHoldDocument,
  ReserveCreditsDocument,
  SettleCreditHoldDocument,
  type CreditAction,
} from '../generated/graphql';
import { runCreditsCli } from '../support/cli';
import { execute, expectData, expectError, headPosition } from '../support/graphql-client';
import { adminToken, newDataDir, startServer, tokenFor, type ServerProcess } from '../support/server-process';

const running: ServerProcess[] = [];
const start = async (...args: Parameters<typeof startServer>) => {
  const server = await startServer(...args);
  running.push(server);
  return server;
};
afterAll(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop('SIGKILL')));
});
let shared: ServerProcess;
beforeAll(async () => {
  shared = await start();
});

let workspaces = 0;
const newWorkspace = (): string => `ws-holds-${process.pid}-${++workspaces}`;
const sleepUntil = (instant: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, instant - Date.now()) + 50));

async function grant(server: ServerProcess, workspaceId: string, credits: number): Promise<void> {
  await expectData(
    server.url,
    GrantCreditsDocument,
    { input: { workspaceId, credits, reason: 'holds test', idempotencyKey: `grant-${workspaceId}-${credits}` } },
    adminToken(),
  );
}
const reserveInput = (workspaceId: string, key: string, units = 5, extra: { expiresAt?: string } = {}) => ({
  input: { workspaceId, action: 'PERSON_ENRICHMENT' as CreditAction, units, idempotencyKey: key, ...extra },
});
const balanceOf = async (server: ServerProcess, workspaceId: string) =>
  expectData(server.url, HeldBalanceDocument, { workspaceId }, adminToken());

describe('a burst on one workspace', () => {
  it('never overdraws, and every hold granted settles whatever else is spent meanwhile', async () => {
    const workspaceId = newWorkspace();
    await grant(shared, workspaceId, 2000);
    const service = tokenFor(workspaceId, 'SERVICE');
    // 60 holds of 35 credits and 60 spends of 8 ask for 2,580 credits of 2,000.
    const burst = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        i % 2 === 0
          ? execute(shared.url, ReserveCreditsDocument, reserveInput(workspaceId, `hold-${i}`), service)
          : execute(
              shared.url,
              ConsumeCreditsDocument,
              { input: { workspaceId, action: 'ACTION_PLAN_GENERATION', idempotencyKey: `spend-${i}` } },
              service,
            ),
      ),
    );
    const codes = burst.flatMap((response) => (response.errors ?? []).map((error) => error.extensions?.code));
    expect(new Set(codes)).toEqual(new Set(codes.length > 0 ? ['INSUFFICIENT_CREDITS'] : []));
    const holds = burst.flatMap((response) =>
      response.data && 'reserveCredits' in response.data ? [response.data.reserveCredits] : [],
    );
    const spent = burst.filter((response) => response.data && 'consumeCredits' in response.data).length * 8;
    const held = holds.reduce((sum, hold) => sum + hold.credits, 0);
    expect(held + spent).toBeGreaterThan(1800); // the burst used nearly everything
    const during = await balanceOf(shared, workspaceId);
    expect(during.workspaceCredits).toMatchObject({ held, available: 2000 - spent - held });
    expect(during.workspaceCredits.available).toBeGreaterThanOrEqual(0);
    expect(during.estimateCredits).toMatchObject({ held, available: 2000 - spent - held });

    // Settle every hold for 1 to 5 units while more spends try to take whatever is left.
    const settles = holds.map((hold, i) =>
      expectData(
        shared.url,
        SettleCreditHoldDocument,
        { input: { holdId: hold.id, units: 1 + (i % 5), idempotencyKey: `settle-${hold.id}` } },
        service,
      ),
    );
    const rivals = Array.from({ length: 40 }, (_, i) =>
      execute(
        shared.url,
        ConsumeCreditsDocument,
        { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 3, idempotencyKey: `rival-${i}` } },
        service,
      ),
    );
    const settled = await Promise.all(settles);
    const rivalSpent = (await Promise.all(rivals)).filter((response) => response.data?.consumeCredits).length * 21;
    const costs = settled.reduce((sum, { settleCreditHold }) => sum + settleCreditHold.credits, 0);
    expect(settled.map(({ settleCreditHold }) => settleCreditHold.credits)).toEqual(
      holds.map((_, i) => 7 * (1 + (i % 5))),
    );
    const after = await balanceOf(shared, workspaceId);
    expect(after.workspaceCredits).toMatchObject({
      held: 0,
      available: 2000 - spent - costs - rivalSpent,
      promotional: { granted: 2000, consumed: spent + costs + rivalSpent },
    });
    const list = await expectData(
      shared.url,
      CreditHoldsDocument,
      { workspaceId, status: 'SETTLED', first: 100 },
      service,
    );
    expect(list.creditHolds.edges).toHaveLength(holds.length);
    // A cursor this API did not return, the empty one included, is refused rather than read as the start.
    for (const after of ['', 'bm90LWEtY3Vyc29y']) {
      const refused = await expectError(shared.url, CreditHoldsDocument, { workspaceId, after }, service);
      expect(refused.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('refusals over HTTP', () => {
  it('answers each refusal with its code and what the caller needs', async () => {
    const workspaceId = newWorkspace();
    await grant(shared, workspaceId, 100);
    const member = tokenFor(workspaceId, 'MEMBER');
    expect(
      await expectError(shared.url, ReserveCreditsDocument, reserveInput(workspaceId, 'too-big', 20), member),
    ).toMatchObject({ code: 'INSUFFICIENT_CREDITS', extensions: { required: 140, available: 100 } });
    const tooLong = await expectError(
      shared.url,
      ReserveCreditsDocument,
      reserveInput(workspaceId, 'too-long', 1, { expiresAt: new Date(Date.now() + 25 * 3_600_000).toISOString() }),
      member,
    );
    expect(tooLong.code).toBe('BAD_USER_INPUT');
    expect(tooLong.message).toMatch(/at most 24 hours/);
    expect(
      await expectError(shared.url, ReserveCreditsDocument, reserveInput(workspaceId, 'none', 0), member),
    ).toMatchObject({ code: 'BAD_USER_INPUT', extensions: { invalidFields: [{ field: 'units' }] } });

    const { reserveCredits: hold } = await expectData(
      shared.url,
      ReserveCreditsDocument,
      reserveInput(workspaceId, 'run-1', 2),
      member,
    );
    expect(hold).toMatchObject({ status: 'ACTIVE', credits: 14, creditsPerUnit: 7, settledCredits: null });
    expect(
      await expectError(
        shared.url,
        SettleCreditHoldDocument,
        { input: { holdId: hold.id, units: 3, idempotencyKey: 's1' } },
        member,
      ),
    ).toMatchObject({ code: 'HOLD_EXCEEDED', extensions: { held: 14, required: 21 } });
    const settled = await expectData(
      shared.url,
      SettleCreditHoldDocument,
      { input: { holdId: hold.id, units: 3, idempotencyKey: 's1', takeExcessFromBalance: true } },
      member,
    );
    expect(settled.settleCreditHold).toMatchObject({ credits: 21, available: 79, holdId: hold.id });
    const again = await expectData(
      shared.url,
      SettleCreditHoldDocument,
      { input: { holdId: hold.id, units: 3, idempotencyKey: 's1' } },
      member,
    );
    expect(again).toEqual(settled);
    const over = [
      expectError(
        shared.url,
        SettleCreditHoldDocument,
        { input: { holdId: hold.id, units: 1, idempotencyKey: 's2' } },
        member,
      ),
      expectError(shared.url, ReleaseCreditHoldDocument, { input: { holdId: hold.id } }, member),
      expectError(
        shared.url,
        ExtendCreditHoldDocument,
        { input: { holdId: hold.id, expiresAt: new Date(Date.now() + 3_600_000).toISOString() } },
        member,
      ),
    ];
    expect((await Promise.all(over)).map((error) => error.code)).toEqual([
      'HOLD_SETTLED',
      'HOLD_SETTLED',
      'HOLD_SETTLED',
    ]);
    expect(
      (await expectError(shared.url, ReleaseCreditHoldDocument, { input: { holdId: 'no-such-hold' } }, member)).code,
    ).toBe('NOT_FOUND');
    const other = tokenFor(newWorkspace(), 'OWNER');
    expect((await expectError(shared.url, ReleaseCreditHoldDocument, { input: { holdId: hold.id } }, other)).code).toBe(
      'FORBIDDEN',
    );
  });

  it('releases once and extends within the maximum', async () => {
    const workspaceId = newWorkspace();
    await grant(shared, workspaceId, 100);
    const service = tokenFor(workspaceId, 'SERVICE');
    const { reserveCredits: hold } = await expectData(
      shared.url,
      ReserveCreditsDocument,
      reserveInput(workspaceId, 'job', 4, { expiresAt: new Date(Date.now() + 600_000).toISOString() }),
      service,
    );
    const later = new Date(Date.now() + 7_200_000).toISOString();
    const extended = await expectData(
      shared.url,
      ExtendCreditHoldDocument,
      { input: { holdId: hold.id, expiresAt: later } },
      service,
    );
    expect(extended.extendCreditHold).toMatchObject({ status: 'ACTIVE', expiresAt: later });
    expect((await balanceOf(shared, workspaceId)).workspaceCredits).toMatchObject({ available: 72, held: 28 });
    const released = await expectData(
      shared.url,
      ReleaseCreditHoldDocument,
      { input: { holdId: hold.id, reason: 'job cancelled' } },
      service,
    );
    expect(released.releaseCreditHold).toMatchObject({ status: 'RELEASED', settledCredits: null });
    const head = await headPosition(shared.url);
    expect(
      await expectData(shared.url, ReleaseCreditHoldDocument, { input: { holdId: hold.id } }, service),
    ).toMatchObject({ releaseCreditHold: { status: 'RELEASED' } });
    expect(await headPosition(shared.url)).toBe(head);
    expect((await balanceOf(shared, workspaceId)).workspaceCredits).toMatchObject({ available: 100, held: 0 });
  });
});

it('tells subscribers of a hold at once, with the credits it holds', async () => {
  const workspaceId = newWorkspace();
  await grant(shared, workspaceId, 100);
  const client = createClient({
    url: `${shared.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${tokenFor(workspaceId, 'OWNER')}` },
    retryAttempts: 0,
  });
  try {
    const updates = client.iterate<{ workspaceCreditsChanged: { available: number; held: number } }>({
      query: 'subscription ($w: ID!) { workspaceCreditsChanged(workspaceId: $w) { available held } }',
      variables: { w: workspaceId },
    });
    const first = updates.next();
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the subscription register
    await expectData(
      shared.url,
      ReserveCreditsDocument,
      reserveInput(workspaceId, 'live'),
      tokenFor(workspaceId, 'SERVICE'),
    );
    const { value } = (await first) as { value: { data: { workspaceCreditsChanged: unknown } } };
    expect(value.data.workspaceCreditsChanged).toEqual({ available: 65, held: 35 });
    await updates.return?.();
  } finally {
    await client.dispose();
  }
});

it('settles a hold reserved before kill -9, once, after the restart', async () => {
  const dataDir = newDataDir();
  const workspaceId = newWorkspace();
  const first = await start({ dataDir });
  await grant(first, workspaceId, 500);
  const service = tokenFor(workspaceId, 'SERVICE');
  const { reserveCredits: hold } = await expectData(
    first.url,
    ReserveCreditsDocument,
    reserveInput(workspaceId, 'long-run', 10),
    service,
  );
  await first.stop('SIGKILL');

  const second = await start({ dataDir });
  expect((await balanceOf(second, workspaceId)).workspaceCredits).toMatchObject({ available: 430, held: 70 });
  const retried = await expectData(
    second.url,
    ReserveCreditsDocument,
    reserveInput(workspaceId, 'long-run', 10),
    service,
  );
  expect(retried.reserveCredits).toEqual(hold);
  const settle = { input: { holdId: hold.id, units: 6, idempotencyKey: 'long-run-done' } };
  const settled = await expectData(second.url, SettleCreditHoldDocument, settle, service);
  expect(settled.settleCreditHold).toMatchObject({ credits: 42, available: 458 });
  await second.stop('SIGKILL');

  const third = await start({ dataDir });
  expect(await expectData(third.url, SettleCreditHoldDocument, settle, service)).toEqual(settled);
  expect((await balanceOf(third, workspaceId)).workspaceCredits).toMatchObject({ available: 458, held: 0 });
  const listed = await expectData(third.url, CreditHoldsDocument, { workspaceId }, service);
  await third.stop();

  // `credits replay` rebuilds every read model from the log: the same hold, settled, and balance.
  runCreditsCli(dataDir, ['replay', '--no-progress']);
  const fourth = await start({ dataDir });
  expect(await expectData(fourth.url, CreditHoldsDocument, { workspaceId }, service)).toEqual(listed);
  expect(listed.creditHolds.edges.map((edge) => edge.node)).toMatchObject([
    { id: hold.id, status: 'SETTLED', settledCredits: 42, consumptionId: settled.settleCreditHold.id },
  ]);
  expect((await balanceOf(fourth, workspaceId)).workspaceCredits).toMatchObject({ available: 458, held: 0 });
});

describe('expiry at the instant', () => {
  it('counts an expired hold’s credits back from its expiresAt, with nothing written', async () => {
    // Another replica holds the reactor lease, and the sweeper waits an hour: nobody writes the expiry.
    const dataDir = newDataDir();
    const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
    await store.appendToStream(
      LEASE_STREAM,
      [
        {
          type: 'ReactorLeaseTaken',
          data: { holder: 'another-replica', until: new Date(Date.now() + 3_600_000).toISOString() },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    await store.close();
    const server = await start({ dataDir, env: { EXPIRY_SWEEP_INTERVAL_MS: '3600000' } });
    const workspaceId = newWorkspace();
    await grant(server, workspaceId, 100);
    const expiresAt = Date.now() + 1500;
    const { reserveCredits: hold } = await expectData(
      server.url,
      ReserveCreditsDocument,
      reserveInput(workspaceId, 'stuck', 10, { expiresAt: new Date(expiresAt).toISOString() }),
      tokenFor(workspaceId, 'SERVICE'),
    );
    expect((await balanceOf(server, workspaceId)).workspaceCredits).toMatchObject({ available: 30, held: 70 });
    const head = await headPosition(server.url);

    await sleepUntil(expiresAt);
    const after = await balanceOf(server, workspaceId);
    expect(after.workspaceCredits).toMatchObject({ available: 100, held: 0, promotional: { remaining: 100 } });
    expect(after.estimateCredits).toMatchObject({ available: 100, held: 0 });
    const listed = await expectData(server.url, CreditHoldsDocument, { workspaceId, status: 'EXPIRED' }, adminToken());
    expect(listed.creditHolds.edges.map((edge) => edge.node)).toEqual([
      { ...hold, status: 'EXPIRED', closedAt: new Date(expiresAt).toISOString() },
    ]);
    expect(await headPosition(server.url)).toBe(head);

    // The balance at any instant, from the events, agrees: held before the instant, back from it.
    const at = (instant: number) =>
      expectData(server.url, HeldBalanceAtDocument, { workspaceId, at: new Date(instant).toISOString() }, adminToken());
    expect((await at(expiresAt - 1)).creditBalanceAt).toMatchObject({ available: 30, held: 70 });
    expect((await at(expiresAt)).creditBalanceAt).toMatchObject({ available: 100, held: 0 });
  });

  it('writes a stuck hold’s expiry promptly through the hold-expiry reaction', async () => {
    const workspaceId = newWorkspace();
    await grant(shared, workspaceId, 100);
    const expiresAt = Date.now() + 1000;
    const { reserveCredits: hold } = await expectData(
      shared.url,
      ReserveCreditsDocument,
      reserveInput(workspaceId, 'stuck', 10, { expiresAt: new Date(expiresAt).toISOString() }),
      tokenFor(workspaceId, 'SERVICE'),
    );
    await sleepUntil(expiresAt + 2500);
    const ledger = await expectData(shared.url, HoldLedgerDocument, { workspaceId }, adminToken());
    expect(ledger.creditLedger.edges.map((edge) => edge.node)).toMatchObject([
      { type: 'HOLD_EXPIRED', credits: 70, balanceAfter: 100, holdId: hold.id, actorId: 'hold-expiry' },
      { type: 'HOLD', credits: -70, balanceAfter: 30, holdId: hold.id },
    ]);
    const store = openSqliteEventStore({ file: join(shared.dataDir, 'events.sqlite'), readOnly: true });
    const types: string[] = [];
    for await (const event of store.readStream(workspaceStreamName(workspaceId))) {
      types.push(event.type);
      if (event.type === 'CreditHoldExpired') expect(event.data.expiredAt).toBe(new Date(expiresAt).toISOString());
    }
    await store.close();
    // Held credits are out of available for the low-balance line too (100 by the catalog's rule):
    // the reserve crossed it; the expiry gave them back to 100, inside the band the workspace must
    // climb past to recover (100 + 10), so it is still low and nothing more is raised.
    expect(types).toEqual(['CreditsGranted', 'CreditsReserved', 'CreditsLow', 'CreditHoldExpired']);
  });
});
