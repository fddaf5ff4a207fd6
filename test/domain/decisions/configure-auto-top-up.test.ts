/** ConfigureAutoTopUp: settings validated, consent recorded with the terms the settings make. */
import { autoTopUpTerms } from '../../../src/domain/auto-top-up';
import type { ConfigureAutoTopUp } from '../../../src/domain/commands';
import type { AutoTopUpSettings } from '../../../src/domain/events';
import { cardSaved, configureTopUp, SETTINGS, topUpConfigured, topUpRequested } from '../auto-top-up-builders';
import { at, purchased, WORKSPACE } from '../builders';
import { given } from '../spec';

describe('ConfigureAutoTopUp', () => {
  it('records the settings with the consent: who, when, and the terms in words', () =>
    given(purchased({ credits: 1000 }), cardSaved())
      .when(configureTopUp())
      .then(topUpConfigured()));

  it('accepts the terms the billing manager was shown when they are the terms', () =>
    given(purchased({ credits: 1000 }), cardSaved())
      .when(configureTopUp({}, { acceptedTerms: autoTopUpTerms(SETTINGS) }))
      .then(topUpConfigured()));

  it('refuses to turn on without the terms sent back: consent is to terms that were shown', () => {
    given(purchased({ credits: 1000 }), cardSaved())
      .when(configureTopUp({}, { acceptedTerms: null }))
      .thenThrows('BAD_USER_INPUT');
    // Turning it off needs no consent.
    given(purchased({ credits: 1000 }), cardSaved(), topUpConfigured())
      .when(configureTopUp({ enabled: false }, { acceptedTerms: null }))
      .then(topUpConfigured({ enabled: false }));
  });

  it('turns off whatever the catalog has made of the settings since: withdrawing consent is never refused', () =>
    given(purchased({ credits: 1000 }), cardSaved(), topUpConfigured())
      .when(configureTopUp({ enabled: false, monthlyLimit: { amount: 100, currency: 'USD' } }, { acceptedTerms: null }))
      .then(topUpConfigured({ enabled: false, monthlyLimit: { amount: 100, currency: 'USD' } })));

  it('turns off a package the catalog no longer sells, its details taken from the settings in force', () => {
    const offNoLongerSold = (packageId: string): ConfigureAutoTopUp => {
      const command = configureTopUp({ enabled: false }, { acceptedTerms: null });
      return {
        ...command,
        data: {
          ...command.data,
          settings: {
            enabled: false,
            noLongerSold: true,
            packageId,
            thresholdCredits: 50,
            targetCredits: null,
            monthlyLimit: 20_000,
          },
        },
      };
    };
    given(purchased({ credits: 1000 }), cardSaved(), topUpConfigured())
      .when(offNoLongerSold(SETTINGS.packageId))
      .then(
        topUpConfigured({
          enabled: false,
          thresholdCredits: 50,
          monthlyLimit: { amount: 20_000, currency: SETTINGS.packagePrice.currency },
        }),
      );
    // A package the workspace never set, nor the catalog sells, is unknown.
    given(purchased({ credits: 1000 }), cardSaved(), topUpConfigured())
      .when(offNoLongerSold('pkg-never-sold'))
      .thenThrows('NOT_FOUND');
    given(purchased({ credits: 1000 }))
      .when(offNoLongerSold(SETTINGS.packageId))
      .thenThrows('NOT_FOUND');
  });

  it('refuses terms that are not the ones these settings make (the price changed since)', () =>
    given(purchased({ credits: 1000 }), cardSaved())
      .when(
        configureTopUp(
          {},
          { acceptedTerms: autoTopUpTerms({ ...SETTINGS, packagePrice: { amount: 4500, currency: 'USD' } }) },
        ),
      )
      .thenThrows('CONFLICT'));

  it('refuses a target so close to the threshold that a top-up could cost less than Stripe charges', () => {
    // 500 credits for $50: a top-up from 100 (just below 101) to 105 is 5 credits, $0.50; to 104, $0.40.
    given(purchased({ credits: 1000 }), cardSaved())
      .when(configureTopUp({ thresholdCredits: 101, targetCredits: 104 }))
      .thenThrows('BAD_USER_INPUT');
    given(purchased({ credits: 1000 }), cardSaved())
      .when(configureTopUp({ thresholdCredits: 101, targetCredits: 105 }))
      .then(topUpConfigured({ thresholdCredits: 101, targetCredits: 105 }));
    // One package at a time: the package itself must reach the minimum, which differs by currency.
    const cheap = { packageCredits: 10, packagePrice: { amount: 40, currency: 'USD' } };
    given(purchased({ credits: 1000 }), cardSaved())
      .when(configureTopUp(cheap))
      .thenThrows('BAD_USER_INPUT');
    const kronor = { packagePrice: { amount: 250, currency: 'SEK' }, monthlyLimit: { amount: 1000, currency: 'SEK' } };
    given(purchased({ credits: 1000 }), cardSaved())
      .when(configureTopUp(kronor))
      .thenThrows('BAD_USER_INPUT');
  });

  it('refuses to turn on without a saved card, but may record it off', () => {
    given(purchased({ credits: 1000 }))
      .when(configureTopUp())
      .thenThrows('CONFLICT');
    given(purchased({ credits: 1000 }))
      .when(configureTopUp({ enabled: false }))
      .then(topUpConfigured({ enabled: false }));
  });

  it('records nothing for the settings in force, but records them again to resume after a pause', () => {
    given(cardSaved(), topUpConfigured()).when(configureTopUp()).thenNothing();
    given(cardSaved(), topUpConfigured(), {
      type: 'AutoTopUpPaused',
      data: { workspaceId: WORKSPACE, topUpId: 'topup-1', reason: 'declined', pausedAt: at(0).toISOString() },
    })
      .when(configureTopUp())
      .then(topUpConfigured(), topUpRequested({ available: 0 })); // nothing left: topped up at once
  });

  it.each<[string, Partial<AutoTopUpSettings>]>([
    ['a threshold of 0', { thresholdCredits: 0 }],
    ['a fractional threshold', { thresholdCredits: 10.5 }],
    ['a target at the threshold', { targetCredits: 100 }],
    ['a monthly limit below one top-up', { monthlyLimit: { amount: 4999, currency: 'USD' } }],
    [
      'a monthly limit below the largest targeted top-up',
      { targetCredits: 1000, monthlyLimit: { amount: 9999, currency: 'USD' } },
    ],
    ['a monthly limit in another currency', { monthlyLimit: { amount: 20000, currency: 'EUR' } }],
  ])('refuses %s', (_what, settings) => given(cardSaved()).when(configureTopUp(settings)).thenThrows('BAD_USER_INPUT'));

  it('refuses a target whose top-up Stripe could never charge (over 99,999,999 minor units at once)', () => {
    // 500 credits for $50: 10,000,000 credits cost $1,000,000, a cent more than Stripe takes at once.
    const huge = { targetCredits: 10_000_000, monthlyLimit: { amount: 200_000_000, currency: 'USD' } };
    given(purchased({ credits: 1000 }), cardSaved())
      .when(configureTopUp(huge))
      .thenThrows('BAD_USER_INPUT');
    const large = { targetCredits: 9_000_000, monthlyLimit: { amount: 200_000_000, currency: 'USD' } };
    given(purchased({ credits: 1000 }), cardSaved())
      .when(configureTopUp(large))
      .then(topUpConfigured(large));
  });
});
