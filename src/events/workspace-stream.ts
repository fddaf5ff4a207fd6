/**
 * Where workspace credits events live in the store, and how a stored event (of any schema version)
 * becomes a domain event.
 * Everything that reads the log (command handler, projections, replay) goes through here.
 */
import { isWorkspaceCreditsEvent, type WorkspaceCreditsEvent } from '../domain/events';
import type { RecordedEvent } from '../eventstore/port';
import { upcast } from './upcasters';

/** Each workspace's credits live in one stream named `workspace-credits-<workspaceId>`. */
export const WORKSPACE_CREDITS_CATEGORY = 'workspace-credits';

export const workspaceStreamName = (workspaceId: string): string => `${WORKSPACE_CREDITS_CATEGORY}-${workspaceId}`;

export const isWorkspaceStream = (streamName: string): boolean =>
  streamName.startsWith(`${WORKSPACE_CREDITS_CATEGORY}-`);

/** The domain event a stored event records, or undefined when it is not a credits event. */
export function toWorkspaceCreditsEvent(recorded: RecordedEvent): WorkspaceCreditsEvent | undefined {
  if (!isWorkspaceStream(recorded.streamName) || !isWorkspaceCreditsEvent(recorded)) return undefined;
  return { type: recorded.type, data: upcast(recorded).data } as WorkspaceCreditsEvent;
}
