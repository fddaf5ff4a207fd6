/**
 * Writes expiries down for workspaces that are quiet, notices credits about to expire, and tops
 * up in a new month a workspace whose last top-up was skipped for the monthly limit: a reaction to
 * time rather than to an event. Expired credits are unavailable from their expiry
 * instant whatever happens here (the balance is computed at the instant of each read); the sweeper
 * only makes the ledger show the expiry without waiting for the workspace's next command. The read
 * models say which workspaces to look at; the ExpireCredits and NoticeExpiringCredits commands then
 * decide on each workspace's own stream what is due, so two replicas sweeping notice a grant once.
 */
import type { Logger } from 'pino';
import type { Clock } from '../src/clock';
import type { CreditsCommands } from '../src/commands/credits-commands';
import { monthOf } from '../src/domain/auto-top-up';

/**
 * Which workspaces hold credits past their expiry that is not recorded yet. The balance read model
 * answers it (the composition root passes its reader); a reaction names what it asks, not a read model.
 */
export interface DueExpiries {
  workspacesWithDueExpiries(now: number, limit: number): string[];
}

/** Which workspaces hold a grant whose expiry notice is due and not recorded yet (the alerts read model). */
export interface ExpiringCredits {
  workspacesWithExpiringCredits(now: number, limit: number): string[];
}

/**
 * Which workspaces skipped a top-up for the monthly limit of an earlier month and are still below
 * their threshold without one (the auto top-up read model): a new month is a change no command
 * brings, and a workspace whose spends are all refused for want of credits would wait for ever.
 */
export interface LimitSkips {
  workspacesToTopUpAfterLimit(month: string, limit: number): string[];
}

const WORKSPACES_PER_SWEEP = 500;
export const EXPIRY_SWEEPER_ACTOR = 'expiry-sweeper';

export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly balances: DueExpiries,
    private readonly alerts: ExpiringCredits,
    private readonly limitSkips: LimitSkips,
    private readonly commands: CreditsCommands,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * Records every due expiry and expiry notice it finds (up to a bounded number of workspaces of
   * each); returns how many workspaces it acted on.
   */
  async sweep(): Promise<number> {
    const now = this.clock.now().getTime();
    const metadata = { actorId: EXPIRY_SWEEPER_ACTOR };
    const expiring = this.balances.workspacesWithDueExpiries(now, WORKSPACES_PER_SWEEP);
    for (const workspaceId of expiring) {
      await this.attempt(() => this.commands.expireCredits(workspaceId, metadata), workspaceId, 'expired credits');
    }
    const noticed = this.alerts.workspacesWithExpiringCredits(now, WORKSPACES_PER_SWEEP);
    for (const workspaceId of noticed) {
      await this.attempt(
        () => this.commands.noticeExpiringCredits(workspaceId, metadata),
        workspaceId,
        'expiry notices',
      );
    }
    // The sweep's command decides on the stream whether a top-up is due now (auto-top-up.ts).
    const topUps = this.limitSkips.workspacesToTopUpAfterLimit(monthOf(now), WORKSPACES_PER_SWEEP);
    for (const workspaceId of topUps) {
      await this.attempt(() => this.commands.expireCredits(workspaceId, metadata), workspaceId, 'a top-up');
    }
    return expiring.length + noticed.length + topUps.length;
  }

  private async attempt(record: () => Promise<unknown>, workspaceId: string, what: string): Promise<void> {
    try {
      await record();
    } catch (error) {
      this.logger.warn({ err: error, workspaceId }, `could not record ${what}; will retry next sweep`);
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep().finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
