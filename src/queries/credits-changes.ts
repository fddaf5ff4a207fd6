/**
 * Live balance changes for subscriptions: after the projections commit a batch, every workspace it
 * touched is published once, so a subscriber reads a balance that already includes the change.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { RecordedEvent } from '../eventstore/port';
import { toWorkspaceCreditsEvent } from '../events/workspace-stream';

export const WORKSPACE_CREDITS_CHANGED = 'WORKSPACE_CREDITS_CHANGED';

export type CreditsPubSub = ReturnType<typeof createCreditsPubSub>;

export const createCreditsPubSub = () =>
  createPubSub<{ [WORKSPACE_CREDITS_CHANGED]: [workspaceId: string, payload: string] }>();

/** The workspaces whose credits the batch of events changed, each once. */
export function changedWorkspaces(batch: readonly RecordedEvent[]): string[] {
  const changed = new Set<string>();
  for (const recorded of batch) {
    const event = toWorkspaceCreditsEvent(recorded);
    if (event) changed.add(event.data.workspaceId);
  }
  return [...changed];
}

export function publishChangedWorkspaces(pubSub: CreditsPubSub, workspaceIds: readonly string[]): void {
  for (const workspaceId of workspaceIds) pubSub.publish(WORKSPACE_CREDITS_CHANGED, workspaceId, workspaceId);
}
