/**
 * Writes expiries down for workspaces that are quiet: a reaction to time rather than to an event.
 * Expired credits are unavailable from their expiry instant whatever happens here (the balance is
 * computed at the instant of each read); the sweeper only makes the ledger show the expiry without
 * waiting for the workspace's next command. The balance read model says which workspaces to look
 * at; the ExpireCredits command then decides on each workspace's own stream what is due.
 */
import type { Logger } from 'pino';
import type { Clock } from '../src/clock';
import type { CreditsCommands } from '../src/commands/credits-commands';

/**
 * Which workspaces hold credits past their expiry that is not recorded yet. The balance read model
 * answers it (the composition root passes its reader); a reaction names what it asks, not a read model.
 */
export interface DueExpiries {
  workspacesWithDueExpiries(now: number, limit: number): string[];
}

const WORKSPACES_PER_SWEEP = 500;
export const EXPIRY_SWEEPER_ACTOR = 'expiry-sweeper';

export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly balances: DueExpiries,
    private readonly commands: CreditsCommands,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Records every due expiry it finds (up to a bounded number of workspaces); returns how many workspaces. */
  async sweep(): Promise<number> {
    const due = this.balances.workspacesWithDueExpiries(this.clock.now().getTime(), WORKSPACES_PER_SWEEP);
    for (const workspaceId of due) {
      try {
        await this.commands.expireCredits(workspaceId, { actorId: EXPIRY_SWEEPER_ACTOR });
      } catch (error) {
        this.logger.warn({ err: error, workspaceId }, 'could not record expired credits; will retry next sweep');
      }
    }
    return due.length;
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
