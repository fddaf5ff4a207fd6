/**
 * The read side of holds as the API sees it: a workspace's holds a page at a time, by their status
 * at the instant of the query, and which workspace a hold belongs to (to authorize and route a
 * settle, release or extension, which name only the hold).
 */
import type { CreditHoldsReader, CreditHoldView } from '../../projections/credit-holds-reader';
import type { Clock } from '../clock';
import { foundOnceCaughtUp } from '../domain/errors';
import type { HoldStatus } from '../domain/holds';
import { ReadModelUnavailable, type ReadModelHealth } from './credits-queries';

export type { CreditHoldView };

export class HoldQueries {
  constructor(
    private readonly reader: CreditHoldsReader,
    private readonly clock: Clock,
    private readonly health: ReadModelHealth = () => undefined,
    /**
     * Waits until the read models include the whole log as it is now; false when they did not in
     * time. Without it, a hold this server has not seen is not found.
     */
    private readonly catchUp: () => Promise<boolean> = () => Promise.resolve(true),
  ) {}

  page(
    workspaceId: string,
    options: { status?: HoldStatus | undefined; first: number; before?: bigint | undefined },
  ): { holds: CreditHoldView[]; hasNextPage: boolean } {
    this.healthy();
    return this.reader.page(workspaceId, { ...options, now: this.clock.now().getTime() });
  }

  /** The workspace of a hold, as the read models have it; one they have not seen yet is looked for once they caught up. */
  workspaceOfHold(holdId: string): Promise<string> {
    return foundOnceCaughtUp(
      () => {
        this.healthy();
        return this.reader.workspaceOfHold(holdId);
      },
      this.catchUp,
      'Credit hold',
      holdId,
    );
  }

  /**
   * A hold that ended (settled, released or expired), as the read model has it. The decider forgets
   * a hold once it ended longer ago than keys are remembered (7 days), so that a later command on it
   * is NOT_FOUND there: this says how it ended instead.
   */
  ended(holdId: string): (CreditHoldView & { status: Exclude<HoldStatus, 'ACTIVE'> }) | undefined {
    this.healthy();
    const view = this.reader.hold(holdId, this.clock.now().getTime());
    return view && view.status !== 'ACTIVE' ? { ...view, status: view.status } : undefined;
  }

  private healthy(): void {
    const failure = this.health('credit-holds');
    if (failure) throw new ReadModelUnavailable('credit-holds', failure);
  }
}
