/**
 * Writes a stuck hold's expiry once it is due: ExpireCredits on the hold's workspace, which records
 * every hold and grant expiry due there (decided on the workspace's own stream, so a hold settled
 * meanwhile is left alone). The work is done when the derivation sees the hold closed; a run that
 * found nothing to write leaves it to be looked at again after the executor's grace period.
 */
import type { CreditsCommands } from '../../src/commands/credits-commands';
import type { ReactionPerformer, RetryPolicy, WorkItem } from '../reaction';
import { HOLD_EXPIRY_ACTOR, HOLD_EXPIRY_REACTION, type HoldExpiryWork } from './work';

export class HoldExpiryPerformer implements ReactionPerformer<HoldExpiryWork> {
  readonly name = HOLD_EXPIRY_REACTION;
  readonly retry: RetryPolicy = { maxAttempts: 10, firstDelayMs: 1_000, maxDelayMs: 60_000 };
  readonly concurrency = 8;

  constructor(private readonly commands: Pick<CreditsCommands, 'expireCredits'>) {}

  async perform(item: WorkItem<HoldExpiryWork>): Promise<void> {
    await this.commands.expireCredits(item.payload.workspaceId, { actorId: HOLD_EXPIRY_ACTOR });
  }
}
