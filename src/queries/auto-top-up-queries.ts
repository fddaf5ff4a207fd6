/**
 * What the API shows of auto top-up: the settings and consent in force, the saved card, this
 * month's use against the limit, recent top-ups with their failures, a card setup once the provider
 * answered for it, and the terms a set of settings would be consented on (the same words the
 * decision records, so what a billing manager is shown is what is recorded).
 */
import { autoTopUpSettings, type ProposedAutoTopUp } from '../catalog/auto-top-up-settings';
import type { Catalog } from '../catalog/catalog';
import type { Clock } from '../clock';
import { autoTopUpTerms, monthOf } from '../domain/auto-top-up';
import { requireValidSettings } from '../domain/decisions/configure-auto-top-up';
import type { Money } from '../domain/credits';
import type { AutoTopUpSettings } from '../domain/events';
import type {
  AutoTopUpReader,
  AutoTopUpView,
  CardSetupView,
  SavedCardView,
  TopUpView,
} from '../../projections/auto-top-up-reader';
import type { ReadModelHealth, ReadModelWatch } from './credits-queries';
import { ReadModelUnavailable } from './credits-queries';

export type { AutoTopUpView, CardSetupView, ProposedAutoTopUp, SavedCardView, TopUpView };

export interface AutoTopUpOverview extends AutoTopUpView {
  month: string;
  /** Charged (or being charged) by top-ups this calendar month (UTC), in the limit's currency. */
  chargedThisMonth: Money | undefined;
  recentTopUps: TopUpView[];
}

export class AutoTopUpQueries {
  constructor(
    private readonly reader: AutoTopUpReader,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly watch: ReadModelWatch,
    private readonly health: ReadModelHealth = () => undefined,
  ) {}

  private healthy(): void {
    const failure = this.health('auto-top-up');
    if (failure) throw new ReadModelUnavailable('auto-top-up', failure);
  }

  overview(workspaceId: string, recent = 10): AutoTopUpOverview {
    this.healthy();
    const view = this.reader.autoTopUp(workspaceId);
    const month = monthOf(this.clock.now().getTime());
    const currency = view.settings?.monthlyLimit.currency;
    return {
      ...view,
      month,
      chargedThisMonth:
        currency === undefined
          ? undefined
          : { amount: this.reader.chargedInMonth(workspaceId, month, currency), currency },
      recentTopUps: this.reader.recentTopUps(workspaceId, recent),
    };
  }

  /** The setup once the provider opened its page (or refused), or as it is after `timeoutMs`. */
  async answeredSetup(workspaceId: string, setupId: string, timeoutMs: number): Promise<CardSetupView | undefined> {
    this.healthy();
    const answered = () => {
      const setup = this.reader.cardSetup(workspaceId, setupId);
      return setup && setup.status !== 'STARTED' ? setup : undefined;
    };
    return (await this.watch(answered, timeoutMs)) ?? this.reader.cardSetup(workspaceId, setupId);
  }

  /** The settings a proposal makes with the catalog's package, and the terms they would be consented on. */
  settingsFor(proposal: ProposedAutoTopUp): { settings: AutoTopUpSettings; terms: string } {
    const settings = autoTopUpSettings(this.catalog, proposal);
    // Terms for settings the save would refuse could never be accepted: refused the same way here.
    if (settings.enabled) requireValidSettings(settings);
    return { settings, terms: autoTopUpTerms(settings) };
  }
}
