import { Field, ID, ObjectType } from 'type-graphql';

/** The one id of the server's payment settings: there is one set per server, and caches key it. */
export const PAYMENT_SETTINGS_ID = 'payments';

@ObjectType({
  description:
    'Whether this server takes payments, so a client can say why buying is off instead of offering a button that fails. The same for every caller: it describes the server, not the workspace.',
})
export class PaymentSettings {
  @Field(() => ID, { description: 'Always "payments": there is one set of payment settings per server.' })
  id!: string;

  @Field({
    description:
      'True when a payment provider (Stripe) is configured. False: startCreditPurchase answers PAYMENTS_NOT_CONFIGURED.',
  })
  enabled!: boolean;
}
