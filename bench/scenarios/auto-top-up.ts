/**
 * (10) Spends with auto top-up on, shaped like (2): every workspace has a saved card and auto top-up
 * just under its balance, so spends keep crossing the threshold; each requested top-up is answered
 * at once as paid (the payments reaction with an instant Stripe), which credits a package and
 * re-arms it. Judged against (2)'s spends per second in the same run: the decision that watches the
 * threshold and the monthly limit must not slow spending down.
 */
import { autoTopUpSettings } from '../../src/catalog/auto-top-up-settings';
import { AutoTopUpCommands } from '../../src/commands/auto-top-up-commands';
import { autoTopUpTerms } from '../../src/domain/auto-top-up';
import { systemClock } from '../../src/clock';
import { newId } from '../../src/ids';
import { inFlight } from '../support';
import { onCommandSide } from './command-side';

export interface AutoTopUpBenchResult {
  spends: number;
  seconds: number;
  spendsPerSecond: number;
  topUps: number;
}

/** The seed grant of command-side.ts; the threshold sits 100 credits below it (a few spends). */
const SEEDED = 10_000_000;

export async function autoTopUpBench(options: {
  workspaces: number;
  spends: number;
  concurrency: number;
}): Promise<AutoTopUpBenchResult> {
  let topUps = 0;
  let seconds = 0;
  await onCommandSide({ ...options, projections: false }, async ({ handler, catalog, commands }) => {
    const autoTopUp = new AutoTopUpCommands(handler, catalog, systemClock, newId);
    const manager = { actorId: 'manager' };
    for (let w = 0; w < options.workspaces; w++) {
      const workspaceId = `ws-${w}`;
      await autoTopUp.recordPaymentMethodSetup(
        workspaceId,
        {
          outcome: 'SAVED',
          setupId: null,
          customerId: `cus_${w}`,
          paymentMethodId: `pm_${w}`,
          card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2099 },
        },
        manager,
      );
      const request = {
        workspaceId,
        enabled: true,
        thresholdCredits: SEEDED - 100,
        packageId: 'credits-500',
        targetCredits: null,
        monthlyLimit: Number.MAX_SAFE_INTEGER,
      };
      // The terms shown, sent back with the settings, as the Billing page does.
      const acceptedTerms = autoTopUpTerms(autoTopUpSettings(catalog, request));
      await autoTopUp.configureAutoTopUp({ ...request, acceptedTerms }, manager);
    }
    const started = performance.now(); // the spends only, not the setting up
    await inFlight(options.spends, options.concurrency, async (i) => {
      const workspaceId = `ws-${i % options.workspaces}`;
      const { events } = await commands.consumeCredits(
        { workspaceId, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: `k${i}` },
        { actorId: 'member' },
      );
      for (const event of events) {
        if (event.type !== 'AutoTopUpRequested') continue;
        topUps += 1;
        const { topUpId, amount } = event.data;
        await autoTopUp.recordAutoTopUpCharge(
          workspaceId,
          {
            topUpId,
            attempt: 1,
            outcome: { status: 'SUCCEEDED', paymentIntentId: `pi_${workspaceId}_${topUpId}`, amountReceived: amount },
          },
          { actorId: 'payments-reaction' },
        );
      }
    });
    seconds = (performance.now() - started) / 1000;
  });
  return { spends: options.spends, seconds, spendsPerSecond: Math.round(options.spends / seconds), topUps };
}
