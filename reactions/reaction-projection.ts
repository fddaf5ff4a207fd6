/**
 * A reaction's derivation as a projection: the projection runner feeds it the log and commits its
 * work with its checkpoint. Besides what the derivation makes of the log, it applies the reaction's
 * own events (attempts, retries, deferrals, work done) to its work.
 */
import type { Projection } from '../projections/projection';
import { reactionStream, toReactionEvent } from './attempt-events';
import type { ReactionDerivation } from './reaction';
import { WORK_SCHEMA, WorkQueue } from './work-queue';

export const reactionProjectionName = (reaction: string): string => `reaction:${reaction}`;

export function reactionProjection(derivation: ReactionDerivation): Projection {
  const ownStream = reactionStream(derivation.name);
  return {
    name: reactionProjectionName(derivation.name),
    version: derivation.version,
    migrate(db) {
      db.exec(WORK_SCHEMA);
      derivation.migrate?.(db);
    },
    reset(db) {
      db.exec(WORK_SCHEMA);
      db.prepare('DELETE FROM reaction_work WHERE reaction = ?').run(derivation.name);
      derivation.reset?.(db);
    },
    prepare(db) {
      const work = new WorkQueue(db, derivation.name);
      const derive = derivation.prepare(db, work);
      return {
        apply(recorded) {
          if (recorded.streamName !== ownStream) return derive(recorded);
          const event = toReactionEvent(recorded);
          switch (event?.type) {
            case 'ReactionAttemptFailed': {
              const { key, attempt, error, nextAttemptAt, performed } = event.data;
              const next = nextAttemptAt === null ? null : Date.parse(nextAttemptAt);
              // One recorded before failures named their work (no `performed`) applies as it always did.
              work.failed(key, attempt, error, next, performed);
              return;
            }
            case 'ReactionWorkRetried':
              work.retried(event.data.key, Date.parse(event.data.retriedAt));
              return;
            case 'ReactionWorkDeferred': {
              const { key, dueAt, payload, performed } = event.data;
              if (payload === undefined) work.deferred(key, Date.parse(dueAt));
              else work.deferredWith(key, Date.parse(dueAt), performed, payload);
              return;
            }
            case 'ReactionWorkDone':
              work.complete(event.data.key);
              return;
            default:
              return;
          }
        },
      };
    },
  };
}
