/**
 * The Stripe adapter's webhooks, through the real `stripe` SDK against the local Stripe double: how
 * each event Stripe sends is verified and narrowed to what the service acts on, and which are
 * refused.
 */
import { InvalidWebhookSignature } from '../../src/payments/payment-gateway';
import { type WebhookDelivery } from '../../tools/stripe-double';
import { gatewayTestbed, ourMetadata } from '../support/stripe-gateway-testbed';

const testbed = gatewayTestbed();
const { newKey, checkoutRequest, paidPurchase, parse } = testbed;

describe('parseWebhook', () => {
  it('narrows a card checkout to checkout_paid', async () => {
    const session = await testbed.gateway.createCheckoutSession(checkoutRequest());
    const delivery = await testbed.double.completeCheckout(session.id, { deliver: false });

    expect(parse(delivery)).toEqual({
      kind: 'checkout_paid',
      eventId: delivery.event.id,
      sessionId: session.id,
      paymentIntentId: testbed.double.session(session.id)?.payment_intent,
      amountPaid: 5000,
      currency: 'USD',
      metadata: ourMetadata,
    });
  });

  it('reports the amount Stripe collected, so a mismatch with the package price can be caught', async () => {
    const session = await testbed.gateway.createCheckoutSession(checkoutRequest());
    const delivery = await testbed.double.completeCheckout(session.id, { amountTotal: 50, deliver: false });
    expect(parse(delivery)).toMatchObject({ kind: 'checkout_paid', amountPaid: 50 });
  });

  it('narrows a delayed payment to processing, then paid when it succeeds', async () => {
    const session = await testbed.gateway.createCheckoutSession(checkoutRequest());
    const completed = await testbed.double.completeCheckout(session.id, { paymentStatus: 'unpaid', deliver: false });
    expect(parse(completed)).toEqual({
      kind: 'checkout_unpaid',
      eventId: completed.event.id,
      sessionId: session.id,
      status: 'PROCESSING',
      metadata: ourMetadata,
    });

    const succeeded = await testbed.double.asyncPaymentSucceeded(session.id, { deliver: false });
    expect(succeeded.event.type).toBe('checkout.session.async_payment_succeeded');
    expect(parse(succeeded)).toEqual({
      kind: 'checkout_paid',
      eventId: succeeded.event.id,
      sessionId: session.id,
      paymentIntentId: testbed.double.session(session.id)?.payment_intent,
      amountPaid: 5000,
      currency: 'USD',
      metadata: ourMetadata,
    });
  });

  it('narrows a failed delayed payment, and an expired session, to checkout_unpaid', async () => {
    const session = await testbed.gateway.createCheckoutSession(checkoutRequest());
    await testbed.double.completeCheckout(session.id, { paymentStatus: 'unpaid', deliver: false });
    const failed = await testbed.double.asyncPaymentFailed(session.id, { deliver: false });

    expect(parse(failed)).toEqual({
      kind: 'checkout_unpaid',
      eventId: failed.event.id,
      sessionId: session.id,
      status: 'FAILED',
      metadata: ourMetadata,
    });
    const unpaid = await testbed.gateway.createCheckoutSession(checkoutRequest({ idempotencyKey: newKey('checkout') }));
    const expired = await testbed.double.expireSession(unpaid.id, { deliver: false });
    expect(parse(expired)).toMatchObject({ kind: 'checkout_unpaid', sessionId: unpaid.id, status: 'EXPIRED' });
  });

  it('lists our own refund, with its metadata, in charge_refunded', async () => {
    const { paymentIntentId } = await paidPurchase();
    const refund = await testbed.gateway.refund({
      paymentIntentId,
      amount: 2000,
      idempotencyKey: newKey('refund'),
      metadata: { purchaseRefund: 'r-1' },
    });
    const delivery = await testbed.double.chargeRefundedFor(refund.refundId, { deliver: false });

    expect(parse(delivery)).toEqual({
      kind: 'charge_refunded',
      eventId: delivery.event.id,
      paymentIntentId,
      metadata: {},
      refunds: [
        {
          refundId: refund.refundId,
          paymentIntentId,
          amount: 2000,
          currency: 'USD',
          status: 'SUCCEEDED',
          failureReason: undefined,
          metadata: { purchaseRefund: 'r-1' },
        },
      ],
      refundsListed: true,
    });
  });

  it('lists a Dashboard refund without our metadata next to ours', async () => {
    const { paymentIntentId } = await paidPurchase();
    const ours = await testbed.gateway.refund({
      paymentIntentId,
      amount: 1000,
      idempotencyKey: newKey('refund'),
      metadata: { purchaseRefund: 'r-2' },
    });
    const delivery = await testbed.double.refundFromDashboard(paymentIntentId, 500, { deliver: false });

    const event = parse(delivery);
    expect(event).toMatchObject({ kind: 'charge_refunded', paymentIntentId, refundsListed: true });
    const refunds = event.kind === 'charge_refunded' ? event.refunds : [];
    expect(refunds).toHaveLength(2);
    expect(refunds).toContainEqual(
      expect.objectContaining({
        refundId: ours.refundId,
        amount: 1000,
        status: 'SUCCEEDED',
        metadata: { purchaseRefund: 'r-2' },
      }),
    );
    expect(refunds).toContainEqual(
      expect.objectContaining({
        refundId: expect.stringMatching(/^re_test_/) as string,
        amount: 500,
        status: 'SUCCEEDED',
        metadata: {},
      }),
    );
  });

  it('lists a failed refund with its status', async () => {
    const { paymentIntentId } = await paidPurchase();
    const kept = await testbed.gateway.refund({
      paymentIntentId,
      amount: 300,
      idempotencyKey: newKey('refund'),
      metadata: {},
    });
    const failed = await testbed.gateway.refund({
      paymentIntentId,
      amount: 400,
      idempotencyKey: newKey('refund'),
      metadata: {},
    });
    testbed.double.failRefund(failed.refundId);
    const delivery = await testbed.double.chargeRefundedFor(kept.refundId, { deliver: false });

    const event = parse(delivery);
    expect(event).toMatchObject({ kind: 'charge_refunded', refundsListed: true });
    const statuses = event.kind === 'charge_refunded' ? event.refunds.map((r) => [r.refundId, r.status]) : [];
    expect(statuses).toEqual([
      [failed.refundId, 'FAILED'],
      [kept.refundId, 'SUCCEEDED'],
    ]);
  });

  it('says when the charge does not list its refunds (Stripe’s default payload), so they are listed', async () => {
    const { paymentIntentId } = await paidPurchase();
    const delivery = await testbed.double.refundFromDashboard(paymentIntentId, 700, {
      deliver: false,
      listRefunds: false,
    });

    expect(parse(delivery)).toMatchObject({
      kind: 'charge_refunded',
      paymentIntentId,
      refunds: [],
      refundsListed: false,
    });
  });

  it('narrows refund status changes and disputes', async () => {
    const { paymentIntentId } = await paidPurchase();
    testbed.double.setRefundStatus('pending');
    const refund = await testbed.gateway.refund({
      paymentIntentId,
      amount: 100,
      idempotencyKey: newKey('refund'),
      metadata: { refundId: 'r-9' },
    });
    testbed.double.setRefundStatus('succeeded');
    expect(refund.status).toBe('PENDING');
    const [updated, failedEvent] = await testbed.double.settleRefund(refund.refundId, 'failed', { deliver: false });
    if (!updated || !failedEvent) throw new Error('no events');
    expect(updated.event.type).toBe('refund.updated');
    expect(parse(updated)).toMatchObject({
      kind: 'refund_updated',
      refund: {
        refundId: refund.refundId,
        paymentIntentId,
        status: 'FAILED',
        failureReason: 'lost_or_stolen_card',
        metadata: { refundId: 'r-9' },
      },
    });
    expect(failedEvent.event.type).toBe('refund.failed');
    await expect(testbed.gateway.retrieveRefund(refund.refundId)).resolves.toMatchObject({ status: 'FAILED' });
    await expect(testbed.gateway.retrieveRefund('re_test_unknown')).resolves.toBeUndefined();

    const { dispute, delivery: opened } = await testbed.double.openDispute(paymentIntentId, { deliver: false });
    expect(parse(opened)).toEqual({
      kind: 'dispute_updated',
      eventId: opened.event.id,
      dispute: {
        disputeId: dispute.id,
        paymentIntentId,
        amount: 5000,
        currency: 'USD',
        status: 'OPEN',
        reason: 'fraudulent',
      },
    });
    const closed = await testbed.double.closeDispute(dispute.id, 'lost', { deliver: false });
    expect(parse(closed)).toMatchObject({
      kind: 'dispute_updated',
      dispute: { disputeId: dispute.id, status: 'LOST' },
    });
  });

  it('reads a payment intent’s metadata, and nothing for one Stripe does not know', async () => {
    const { paymentIntentId } = await paidPurchase();
    await expect(testbed.gateway.paymentIntentMetadata(paymentIntentId)).resolves.toEqual(ourMetadata);
    await expect(testbed.gateway.paymentIntentMetadata('pi_test_unknown')).resolves.toBeUndefined();
  });

  it('ignores other event types', () => {
    const payload = JSON.stringify({
      id: 'evt_test_other',
      object: 'event',
      type: 'customer.created',
      data: { object: { id: 'cus_1', object: 'customer' } },
    });
    expect(testbed.gateway.parseWebhook(Buffer.from(payload), testbed.double.sign(payload))).toEqual({
      kind: 'ignored',
      eventId: 'evt_test_other',
      type: 'customer.created',
    });
  });

  describe('refuses webhooks it cannot trust', () => {
    let delivery: WebhookDelivery;
    beforeAll(async () => {
      const session = await testbed.gateway.createCheckoutSession(checkoutRequest());
      delivery = await testbed.double.completeCheckout(session.id, { deliver: false });
    });

    const refused = (body: string, header: string | undefined): InvalidWebhookSignature => {
      let caught: unknown;
      try {
        testbed.gateway.parseWebhook(Buffer.from(body), header);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidWebhookSignature);
      expect((caught as InvalidWebhookSignature).code).toBe('INVALID_SIGNATURE');
      return caught as InvalidWebhookSignature;
    };

    it('accepts the genuine delivery', () => {
      expect(parse(delivery).kind).toBe('checkout_paid');
    });
    it('without a signature header', () => {
      refused(delivery.payload, undefined);
      refused(delivery.payload, '');
    });
    it('with a malformed or wrong signature', () => {
      refused(delivery.payload, 'not-a-signature');
      refused(delivery.payload, `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`);
    });
    it('signed with another secret', () => {
      refused(delivery.payload, testbed.double.sign(delivery.payload, { secret: 'whsec_someone_else' }));
    });
    it('with a tampered body', () => {
      refused(delivery.payload.replace('"amount_total": 5000', '"amount_total": 50000'), delivery.signature);
    });
    it('re-serialized instead of the raw bytes received', () => {
      refused(JSON.stringify(JSON.parse(delivery.payload)), delivery.signature);
    });
    it('signed too long ago (a replay)', () => {
      const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
      const error = refused(delivery.payload, testbed.double.sign(delivery.payload, { timestamp: tenMinutesAgo }));
      expect(error.message).toMatch(/tolerance/i);

      const aMinuteAgo = Math.floor(Date.now() / 1000) - 60;
      expect(
        parse({ ...delivery, signature: testbed.double.sign(delivery.payload, { timestamp: aMinuteAgo }) }).kind,
      ).toBe('checkout_paid');
    });
  });
});
