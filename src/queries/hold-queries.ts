/**
 * The read side of holds as the API sees it: a workspace's holds a page at a time, by their status
 * at the instant of the query, and which workspace a hold belongs to (to authorize and route a
 * settle, release or extension, which name only the hold).
 */
import type { CreditHoldsReader, CreditHoldView } from '../../projections/credit-holds-reader';
import type { Clock } from '../clock';
import { notFound } from '../domain/errors';
import type { HoldStatus } from '../domain/holds';
import { ReadModelUnavailable, type ReadModelHealth } from './credits-queries';

export type { CreditHoldView };

export class HoldQueries {
  constructor(
    private readonly reader: CreditHoldsReader,
    private readonly clock: Clock,
    private readonly health: ReadModelHealth = () => undefined,
  ) {}

  page(
    workspaceId: string,
    options: { status?: HoldStatus | undefined; first: number; before?: bigint | undefined },
  ): { holds: CreditHoldView[]; hasNextPage: boolean } {
    this.healthy();
    return this.reader.page(workspaceId, { ...options, now: this.clock.now().getTime() });
  }

  /** The workspace of a hold this server's read models have seen reserved; NOT_FOUND otherwise. */
  workspaceOfHold(holdId: string): string {
    this.healthy();
    const workspaceId = this.reader.workspaceOfHold(holdId);
    if (workspaceId === undefined) throw notFound('Credit hold', holdId);
    return workspaceId;
  }

  private healthy(): void {
    const failure = this.health('credit-holds');
    if (failure) throw new ReadModelUnavailable('credit-holds', failure);
  }
}
