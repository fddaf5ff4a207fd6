/**
 * The payments reaction never moves money twice once the provider has forgotten an idempotency key
 * (Stripe keeps one 24 hours): whatever its count of failed attempts, it asks the provider for a
 * refund before making it (a crash between the provider's answer and its record, or an operator's
 * retry of parked work, which counts attempts afresh, leaves no failure behind); and it reads a
 * top-up charge still processing at its last look rather than making it again.
 */
import type { Catalog } from '../../src/catalog/catalog';
import type { AutoTopUpCommands } from '../../src/commands/auto-top-up-commands';
import type { PaymentCommands } from '../../src/commands/payment-commands';
import type { ProviderRefundFact } from '../../src/domain/events';
import type { AutoTopUpChargeOutcome } from '../../src/domain/commands';
import type {
  CheckoutRequest,
  OffSessionChargeRequest,
  PaymentGateway,
  ProviderRefund,
  RefundRequest,
} from '../../src/payments/payment-gateway';
import { PaymentsPerformer, setupReturnUrl } from '../../reactions/payments/performer';
import type { PaymentWork } from '../../reactions/payments/work';
import type { WorkItem } from '../../reactions/reaction';

const work: Extract<PaymentWork, { kind: 'make-refund' }> = {
  kind: 'make-refund',
  workspaceId: 'ws-1',
  refundId: 'rf-1',
  purchaseId: 'cs_1',
  paymentIntentId: 'pi_1',
  amount: 700,
  currency: 'USD',
  credits: 70,
};

const providerRefund = (refundId: string, metadataRefundId: string | undefined): ProviderRefund => ({
  refundId,
  paymentIntentId: 'pi_1',
  amount: 700,
  currency: 'USD',
  status: 'SUCCEEDED',
  failureReason: undefined,
  metadata: metadataRefundId === undefined ? {} : { refundId: metadataRefundId, workspaceId: 'ws-1' },
});

function performerWith(existing: ProviderRefund[]) {
  const created: RefundRequest[] = [];
  const recorded: ProviderRefundFact[] = [];
  const gateway = {
    listRefunds: () => Promise.resolve(existing),
    refund: (request: RefundRequest) => {
      created.push(request);
      return Promise.resolve(providerRefund('re_new', request.metadata.refundId));
    },
  } as unknown as PaymentGateway;
  const payments = {
    recordProviderRefund: (_workspaceId: string, _paymentIntentId: string, fact: ProviderRefundFact) => {
      recorded.push(fact);
      return Promise.resolve({ result: undefined, events: [], position: undefined });
    },
  } as unknown as PaymentCommands;
  const performer = new PaymentsPerformer(
    gateway,
    payments,
    {} as Catalog,
    () => ({ successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/cancel' }),
    { now: () => new Date('2026-12-03T00:00:00Z') },
    {} as AutoTopUpCommands,
  );
  return { performer, created, recorded };
}

const item = (attempts: number): WorkItem<PaymentWork> => ({
  reaction: 'payments',
  key: 'refund/rf-1',
  payload: work,
  attempts,
  dueAt: 0,
  requestedAt: 0,
});

describe('making a refund', () => {
  it.each([0, 3])(
    'records the refund the provider already made rather than making another (%i failed attempts before)',
    async (attempts) => {
      const { performer, created, recorded } = performerWith([
        providerRefund('re_dashboard', undefined),
        providerRefund('re_made', 'rf-1'),
      ]);
      await performer.perform(item(attempts));
      expect(created).toEqual([]);
      expect(recorded).toEqual([expect.objectContaining({ providerRefundId: 're_made', refundId: 'rf-1' })]);
    },
  );

  it('makes it, with its own id as the key, when the provider has none of this refund', async () => {
    const { performer, created, recorded } = performerWith([providerRefund('re_dashboard', undefined)]);
    await performer.perform(item(0));
    expect(created).toEqual([
      expect.objectContaining({ paymentIntentId: 'pi_1', amount: 700, idempotencyKey: 'rf-1' }),
    ]);
    expect(recorded).toEqual([expect.objectContaining({ providerRefundId: 're_new', status: 'SUCCEEDED' })]);
  });
});

describe('charging a top-up', () => {
  const chargeWork: Extract<PaymentWork, { kind: 'charge-top-up' }> = {
    kind: 'charge-top-up',
    workspaceId: 'ws-1',
    topUpId: 'topup-1',
    attempt: 1,
    customerId: 'cus_1',
    paymentMethodId: 'pm_1',
    amount: 5000,
    currency: 'USD',
  };
  const processing: AutoTopUpChargeOutcome = { status: 'PROCESSING', paymentIntentId: 'pi_p' };
  const paid: AutoTopUpChargeOutcome = {
    status: 'SUCCEEDED',
    paymentIntentId: 'pi_p',
    amountReceived: { amount: 5000, currency: 'USD' },
  };

  function topUpPerformer(answer: AutoTopUpChargeOutcome, chargeable = true, atStripe?: AutoTopUpChargeOutcome) {
    const created: OffSessionChargeRequest[] = [];
    const lookedFor: unknown[] = [];
    const asked: [string, string, string][] = [];
    const read: string[] = [];
    const recorded: AutoTopUpChargeOutcome[] = [];
    const gateway = {
      chargeSavedCard: (request: OffSessionChargeRequest) => {
        created.push(request);
        return Promise.resolve(answer);
      },
      offSessionCharge: (paymentIntentId: string) => {
        read.push(paymentIntentId);
        return Promise.resolve(answer);
      },
      findTopUpCharge: (request: unknown) => {
        lookedFor.push(request);
        return Promise.resolve(atStripe);
      },
    } as unknown as PaymentGateway;
    const autoTopUp = {
      mayCharge: (workspaceId: string, topUpId: string, paymentMethodId: string) => {
        asked.push([workspaceId, topUpId, paymentMethodId]);
        return Promise.resolve(chargeable);
      },
      recordAutoTopUpCharge: (_workspaceId: string, charge: { outcome: AutoTopUpChargeOutcome }) => {
        recorded.push(charge.outcome);
        return Promise.resolve({ result: 'REQUESTED', events: [], position: undefined });
      },
    } as unknown as AutoTopUpCommands;
    const performer = new PaymentsPerformer(
      gateway,
      {} as PaymentCommands,
      {} as Catalog,
      () => ({ successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/cancel' }),
      { now: () => new Date('2026-12-03T00:00:00Z') },
      autoTopUp,
    );
    return { performer, created, read, recorded, asked, lookedFor };
  }

  const chargeItem = (payload: PaymentWork): WorkItem<PaymentWork> => ({ ...item(0), key: 'topup/1', payload });

  it('keeps the id of a charge still processing for the next look', async () => {
    const { performer, created, read, lookedFor } = topUpPerformer(processing);
    const result = await performer.perform(chargeItem(chargeWork));
    // Looked for at Stripe first, found nowhere: charged.
    expect(lookedFor).toEqual([{ customerId: 'cus_1', workspaceId: 'ws-1', topUpId: 'topup-1', attempt: 1 }]);
    expect(created).toHaveLength(1);
    expect(read).toEqual([]);
    expect(result).toEqual({
      checkAgainAt: new Date('2026-12-03T00:15:00Z'),
      payload: { ...chargeWork, paymentIntentId: 'pi_p' },
    });
  });

  it('reads that charge at the next look, and never charges the card again', async () => {
    const { performer, created, read, recorded, asked } = topUpPerformer(paid, false);
    await performer.perform(chargeItem({ ...chargeWork, paymentIntentId: 'pi_p' }));
    expect(created).toEqual([]);
    expect(read).toEqual(['pi_p']);
    // A charge already made is looked at even once canceled: its money is credited if it came.
    expect(asked).toEqual([]);
    expect(recorded).toEqual([paid]);
  });

  it('asks the stream before each new charge, charges nothing for a top-up canceled since, and records that', async () => {
    const { performer, created, recorded, asked, lookedFor } = topUpPerformer(paid, false);
    const result = await performer.perform(chargeItem({ ...chargeWork, attempt: 2 }));
    expect(asked).toEqual([['ws-1', 'topup-1', 'pm_1']]);
    // Looked for at Stripe first: a try before this one may have reached it.
    expect(lookedFor).toEqual([{ customerId: 'cus_1', workspaceId: 'ws-1', topUpId: 'topup-1', attempt: 2 }]);
    expect(created).toEqual([]);
    expect(recorded).toEqual([
      expect.objectContaining({ status: 'FAILED', paymentIntentId: null, code: 'not_charged' }),
    ]);
    expect(result).toEqual({ done: true });
  });

  it('records what a try before the cancel came to at Stripe, and makes no new charge, whatever the tries before', async () => {
    const { performer, created, recorded } = topUpPerformer(paid, false, paid);
    await performer.perform({ ...chargeItem({ ...chargeWork, attempt: 2 }), attempts: 3 });
    expect(created).toEqual([]);
    expect(recorded).toEqual([paid]);
  });
  it('records a charge a try before made, even a day and more ago, rather than charge the card again while it may', async () => {
    // Stripe answered 500 after charging, or the answer was lost and the work waited past the 24
    // hours Stripe keeps a key (parked over a weekend, a server down): a new create would charge twice.
    const { performer, created, recorded, lookedFor } = topUpPerformer(processing, true, paid);
    const result = await performer.perform({ ...chargeItem(chargeWork), attempts: 4 });
    expect(lookedFor).toHaveLength(1);
    expect(created).toEqual([]);
    expect(recorded).toEqual([paid]);
    expect(result).toEqual({ done: true });
  });
});

describe('where the card-saving page returns', () => {
  // In place of the checkout outcome; added to the query of the app's own page (told apart by the
  // parameter), before a plain #fragment; in the route of a hash-routed app, which reads it there.
  it.each([
    [
      'https://credits.example/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}',
      'success',
      'https://credits.example/billing?setup=success&session_id={CHECKOUT_SESSION_ID}',
    ],
    [
      'https://credits.example/billing?checkout=cancelled',
      'cancelled',
      'https://credits.example/billing?setup=cancelled',
    ],
    [
      'https://app.example.com/credits/thanks?sid={CHECKOUT_SESSION_ID}',
      'success',
      'https://app.example.com/credits/thanks?sid={CHECKOUT_SESSION_ID}&setup=success',
    ],
    ['https://app.example.com/credits/thanks', 'success', 'https://app.example.com/credits/thanks?setup=success'],
    ['https://app.example.com/credits#tab', 'cancelled', 'https://app.example.com/credits?setup=cancelled#tab'],
    ['https://app.example.com/#/credits/thanks', 'success', 'https://app.example.com/#/credits/thanks?setup=success'],
    [
      'https://app.example.com/#!/thanks?sid={CHECKOUT_SESSION_ID}',
      'success',
      'https://app.example.com/#!/thanks?sid={CHECKOUT_SESSION_ID}&setup=success',
    ],
  ] as const)('marks %s for the setup (%s)', (checkoutUrl, outcome, expected) => {
    expect(setupReturnUrl(checkoutUrl, outcome)).toBe(expected);
  });
});

describe('opening a checkout', () => {
  const offer = {
    packageId: 'credits-500',
    packageName: '500 credits',
    credits: 500,
    price: { amount: 5000, currency: 'USD' },
  };
  /** The price the gateway was asked for, with the catalog's package priced as given. */
  async function askedFor(catalogPrice: { amount: number; currency: string }) {
    const asked: CheckoutRequest[] = [];
    const gateway = {
      createCheckoutSession: (request: CheckoutRequest) => {
        asked.push(request);
        return Promise.resolve({ sessionId: 'cs_1', url: 'https://checkout.example/cs_1', expiresAt: new Date() });
      },
    } as unknown as PaymentGateway;
    const payments = { recordCheckoutOpened: () => Promise.resolve() } as unknown as PaymentCommands;
    const catalog = {
      creditPackage: (id: string) =>
        id === 'credits-500' ? { ...offer, id, price: catalogPrice, stripePriceId: 'price_catalog' } : undefined,
    } as unknown as Catalog;
    const performer = new PaymentsPerformer(
      gateway,
      payments,
      catalog,
      () => ({ successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/cancel' }),
      { now: () => new Date('2026-12-03T00:00:00Z') },
      {} as AutoTopUpCommands,
    );
    await performer.perform({
      reaction: 'payments',
      key: 'checkout/co-1',
      payload: { kind: 'open-checkout', workspaceId: 'ws-1', checkoutId: 'co-1', offer, startedBy: 'manager-1' },
      attempts: 0,
      dueAt: 0,
      requestedAt: 0,
    });
    expect(asked).toHaveLength(1);
    return { stripePriceId: asked[0]?.stripePriceId, price: asked[0]?.price };
  }

  it("uses the catalog's Stripe price while it is still the offer's price", async () => {
    expect(await askedFor({ amount: 5000, currency: 'USD' })).toEqual({
      stripePriceId: 'price_catalog',
      price: offer.price,
    });
  });

  it('asks for the offer’s own price once the catalog changed its amount or its currency', async () => {
    for (const changed of [
      { amount: 6000, currency: 'USD' },
      { amount: 5000, currency: 'EUR' },
    ]) {
      expect(await askedFor(changed)).toEqual({ stripePriceId: undefined, price: offer.price });
    }
  });
});
