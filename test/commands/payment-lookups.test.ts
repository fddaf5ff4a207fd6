/**
 * Refunds find their workspace through an index (the read models); one that does not know the id
 * yet (a spend or purchase written through another replica a moment ago) is asked again once it has
 * caught up with the log, and only then is the answer NOT_FOUND, retryable when it could not catch up.
 */
import { join } from 'node:path';
import { PaymentCommands } from '../../src/commands/payment-commands';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import type { WorkspaceLookup } from '../../src/commands/ports';
import { Catalog } from '../../src/catalog/catalog';
import type { CreditsError } from '../../src/domain/errors';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { projectRoot } from '../../src/project-root';
import { grantOn, spendOn } from './commands';
import { eventTypes, instrumentedStore } from './instrumented-store';

const WORKSPACE = 'ws-lookups';
const now = new Date('2026-06-01T00:00:00Z');
const metadata = { actorId: 'admin' };

/** An index that learns of the spend (c1, at revision 1) only when asked to catch up, if it can. */
function laggingLookup(catchesUp: boolean) {
  let caughtUp = false;
  let catchUps = 0;
  const lookup: WorkspaceLookup = {
    workspacesOfPurchase: () => [],
    workspaceOfPayment: () => undefined,
    spendLocation: (id) => (caughtUp && id === 'c1' ? { workspaceId: WORKSPACE, revision: 1n } : undefined),
    catchUp: () => {
      catchUps += 1;
      caughtUp = catchesUp;
      return Promise.resolve(catchesUp);
    },
  };
  return { lookup, catchUps: () => catchUps };
}

async function setUp(catchesUp: boolean) {
  const { store } = instrumentedStore();
  const handler = new WorkspaceCreditsCommandHandler(store);
  await handler.handle(grantOn(WORKSPACE, 100, 'seed', now), metadata, () => undefined);
  await handler.handle(spendOn(WORKSPACE, 1, 10, now), metadata, () => undefined);
  const { lookup, catchUps } = laggingLookup(catchesUp);
  const catalog = Catalog.load(join(projectRoot(), 'config/catalog.json'));
  const payments = new PaymentCommands(handler, catalog, lookup, store, { now: () => now }, () => 'id-1');
  return { store, payments, catchUps };
}

const refusal = async (promise: Promise<unknown>): Promise<CreditsError> => {
  try {
    await promise;
  } catch (error) {
    return error as CreditsError;
  }
  throw new Error('expected a refusal');
};

it('finds a spend its index learns of only once caught up with the log, and gives it back', async () => {
  const { store, payments, catchUps } = await setUp(true);
  const outcome = await payments.refundConsumption({ consumptionId: 'c1', reason: 'run failed' }, metadata);
  expect(outcome.result).toEqual({ workspaceId: WORKSPACE });
  expect(catchUps()).toBe(1);
  expect(await eventTypes(store, workspaceStreamName(WORKSPACE))).toContain('CreditConsumptionRefunded');
  await store.close();
});

it('says NOT_FOUND for an id still unknown once caught up, and a retryable NOT_FOUND when it could not catch up', async () => {
  const caughtUp = await setUp(true);
  const unknown = await refusal(caughtUp.payments.refundConsumption({ consumptionId: 'c9', reason: 'x' }, metadata));
  expect(unknown).toMatchObject({ code: 'NOT_FOUND', details: { id: 'c9' } });
  expect(unknown.details.retryable).toBeUndefined();
  const purchase = await refusal(caughtUp.payments.requestRefund({ purchaseId: 'cs_9', reason: 'x' }, metadata));
  expect(purchase).toMatchObject({ code: 'NOT_FOUND', message: 'Purchase "cs_9" does not exist.' });
  await caughtUp.store.close();

  const behind = await setUp(false);
  const notYet = await refusal(behind.payments.refundConsumption({ consumptionId: 'c1', reason: 'x' }, metadata));
  expect(notYet).toMatchObject({ code: 'NOT_FOUND', details: { id: 'c1', retryable: true } });
  expect(notYet.message).toContain('not known to this server yet');
  const purchaseNotYet = await refusal(behind.payments.requestRefund({ purchaseId: 'cs_9', reason: 'x' }, metadata));
  expect(purchaseNotYet).toMatchObject({ code: 'NOT_FOUND', details: { retryable: true } });
  expect(await eventTypes(behind.store, workspaceStreamName(WORKSPACE))).not.toContain('CreditConsumptionRefunded');
  await behind.store.close();
});
