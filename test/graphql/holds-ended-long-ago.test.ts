/**
 * A hold that ended longer ago than the decider remembers holds (7 days, with their keys): the
 * decider no longer has it and refuses NOT_FOUND, while the holds read model still lists it
 * SETTLED, RELEASED or EXPIRED. Settling, releasing or extending it is answered by how it ended, as
 * within the 7 days: HOLD_SETTLED, HOLD_RELEASED or HOLD_EXPIRED, and a release of a released or
 * expired hold changes nothing. A hold id nobody made is still NOT_FOUND.
 */
import { join } from 'node:path';
import type { CreditHoldsReader, CreditHoldView } from '../../projections/credit-holds-reader';
import { Catalog } from '../../src/catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import { CreditsCommands } from '../../src/commands/credits-commands';
import { HoldCommands, type HoldResult } from '../../src/commands/hold-commands';
import type { GraphQLContext } from '../../src/graphql/context';
import { HoldsResolver } from '../../src/graphql/resolvers/holds-resolver';
import { projectRoot } from '../../src/project-root';
import { HoldQueries } from '../../src/queries/hold-queries';
import { instrumentedStore } from '../commands/instrumented-store';

const DAY = 24 * 60 * 60 * 1000;
const workspaceId = 'ws-ended-holds';
let now = new Date('2026-11-01T10:00:00Z');
const clock = { now: () => now };
const { store } = instrumentedStore();
const handler = new WorkspaceCreditsCommandHandler(store);
const catalog = Catalog.load(join(projectRoot(), 'config/catalog.json'));
const holds = new HoldCommands(handler, catalog, clock);
const credits = new CreditsCommands(handler, catalog, clock);

/** The holds read model, as the projection would have it: every hold as the commands answered it. */
const views = new Map<string, HoldResult>();
const reader = {
  workspaceOfHold: (id: string) => (views.has(id) ? workspaceId : undefined),
  hold: (id: string, at: number): CreditHoldView | undefined => {
    const hold = views.get(id);
    if (!hold) return undefined;
    const expired = hold.status === 'ACTIVE' && hold.expiresAt <= at;
    return {
      id,
      position: 1n,
      workspaceId,
      action: hold.action,
      units: hold.units,
      creditsPerUnit: hold.creditsPerUnit,
      credits: hold.credits,
      drawdown: hold.drawdown,
      status: expired ? 'EXPIRED' : hold.status,
      expiresAt: new Date(hold.expiresAt),
      reference: hold.reference,
      actorId: 'job-runner',
      createdAt: new Date(hold.createdAt),
      closedAt: expired ? new Date(hold.expiresAt) : date(hold.closedAt),
      settledUnits: hold.settlement?.units,
      settledCredits: hold.settlement?.credits,
      consumptionId: hold.settlement?.consumptionId,
    };
  },
} as unknown as CreditHoldsReader;
const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

const context = {
  principal: { subject: 'job-runner', workspaceId, role: 'SERVICE', admin: false },
  authError: undefined,
  services: { holds: { commands: holds, queries: new HoldQueries(reader, clock) } },
} as unknown as GraphQLContext;
const resolver = new HoldsResolver();
const actor = { actorId: 'job-runner' };

async function reserve(key: string, expiresInMs = 60 * 60 * 1000): Promise<string> {
  const { result } = await holds.reserveCredits(
    {
      workspaceId,
      action: 'PERSON_ENRICHMENT',
      units: 2,
      idempotencyKey: key,
      expiresAt: new Date(now.getTime() + expiresInMs),
    },
    actor,
  );
  views.set(result.holdId, result);
  return result.holdId;
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: { code?: string; message: string }) => error,
  );

afterAll(async () => {
  await handler.close();
  await store.close();
});

it('answers each command on a hold that ended over 7 days ago by how it ended, and NOT_FOUND for no hold', async () => {
  await credits.grantCredits(
    { workspaceId, credits: 1_000, reason: 'test', idempotencyKey: 'grant' },
    { actorId: 'admin' },
  );
  const settled = await reserve('settled');
  const released = await reserve('released');
  const expired = await reserve('expired', 60_000);
  const settle = await holds.settleCreditHold(
    { workspaceId, holdId: settled, units: 1, idempotencyKey: 'settle-1', takeExcessFromBalance: false },
    actor,
  );
  views.set(settled, settle.result.hold);
  views.set(released, (await holds.releaseCreditHold({ workspaceId, holdId: released }, actor)).result);

  now = new Date(now.getTime() + 8 * DAY);
  // The next hold to close makes the decider forget those that closed before the 7 days.
  await holds.releaseCreditHold({ workspaceId, holdId: await reserve('a week on') }, actor);
  const later = new Date(now.getTime() + 60 * 60 * 1000);
  const extend = (holdId: string) => resolver.extendCreditHold({ holdId, expiresAt: later }, context);
  const settleAgain = (holdId: string) =>
    resolver.settleCreditHold({ holdId, units: 1, idempotencyKey: 'settle-2', takeExcessFromBalance: false }, context);

  expect(await refusal(settleAgain(settled))).toMatchObject({ code: 'HOLD_SETTLED' });
  expect(await refusal(settleAgain(released))).toMatchObject({ code: 'HOLD_RELEASED' });
  expect(await refusal(settleAgain(expired))).toMatchObject({ code: 'HOLD_EXPIRED' });
  expect(await refusal(extend(expired))).toMatchObject({ code: 'HOLD_EXPIRED' });
  expect(await refusal(resolver.releaseCreditHold({ holdId: settled }, context))).toMatchObject({
    code: 'HOLD_SETTLED',
  });
  // Releasing a released or expired hold changes nothing, as it did within the 7 days.
  expect(await resolver.releaseCreditHold({ holdId: released }, context)).toMatchObject({
    id: released,
    status: 'RELEASED',
  });
  expect(await resolver.releaseCreditHold({ holdId: expired }, context)).toMatchObject({
    id: expired,
    status: 'EXPIRED',
  });
  // An id the decider never had is still NOT_FOUND (the read model has it here only to route it).
  views.set('never-reserved', {
    ...views.get(settled)!,
    holdId: 'never-reserved',
    status: 'ACTIVE',
    closedAt: undefined,
    expiresAt: later.getTime(),
  });
  expect(await refusal(extend('never-reserved'))).toMatchObject({ code: 'NOT_FOUND' });
});
