/**
 * The payments reaction's refund never returns the money twice: whatever its count of failed
 * attempts, it asks the provider for this refund before making it. A crash between the provider's
 * answer and its record, or an operator's retry of parked work (which counts attempts afresh),
 * leaves no failure behind, and a provider that has forgotten the idempotency key (Stripe keeps it
 * 24 hours) would make a second refund.
 */
import type { Catalog } from '../../src/catalog/catalog';
import type { AutoTopUpCommands } from '../../src/commands/auto-top-up-commands';
import type { PaymentCommands } from '../../src/commands/payment-commands';
import type { ProviderRefundFact } from '../../src/domain/events';
import type { PaymentGateway, ProviderRefund, RefundRequest } from '../../src/payments/payment-gateway';
import { PaymentsPerformer } from '../../reactions/payments/performer';
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
