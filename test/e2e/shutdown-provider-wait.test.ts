/**
 * SIGTERM while a mutation waits for Stripe's answer: a refund is recorded at once and then waits
 * up to 15 s for Stripe, longer than the drain's deadline. The shutdown answers it at once with what
 * is recorded (REQUESTED), rather than cut it off after its write happened.
 */
import { RefundCreditPurchaseDocument } from '../generated/graphql';
import { execute } from '../support/graphql-client';
import { eventTypes } from '../support/event-log';
import { adminToken } from '../support/server-process';
import { stripeTestbed } from '../support/stripe-testbed';

const testbed = stripeTestbed();

it('answers a refund waiting for Stripe when the server is told to stop, with the refund it recorded', async () => {
  const { session, workspaceId } = await testbed.purchased('credits-2000');
  // Stripe answers every refund with 500: the payments reaction keeps retrying, and the mutation waits.
  testbed.stripe.failNext('POST /v1/refunds', { status: 500 }, 1_000);
  const input = { purchaseId: session.id, credits: 100, reason: 'customer request', idempotencyKey: 'stopping' };
  const asked = Date.now();
  const answering = execute(testbed.server.url, RefundCreditPurchaseDocument, { input }, adminToken());
  await new Promise((resolve) => setTimeout(resolve, 500));
  const exited = testbed.server.stop('SIGTERM');

  const answer = await answering;
  expect(answer.errors).toBeUndefined();
  expect(answer.data?.refundCreditPurchase).toMatchObject({ credits: 100, status: 'REQUESTED' });
  // Well before the drain's deadline (10 s) and the 15 s wait.
  expect(Date.now() - asked).toBeLessThan(5_000);
  expect(await exited).toBe(0);

  // The refund it answered is in the log, once.
  const types = await eventTypes(testbed.server.dataDir, workspaceId);
  expect(types.filter((type) => type === 'PurchaseRefundRequested')).toHaveLength(1);
}, 60_000);
