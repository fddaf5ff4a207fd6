/**
 * A projection turns the global event log into one read model in the read-model database. The
 * runner feeds it events in position order and commits its updates together with its checkpoint,
 * so a read model is always exactly "the log up to the checkpoint".
 */
import type { Database } from 'better-sqlite3';
import type { RecordedEvent } from '../src/eventstore/port';

export interface Projection {
  /** Stable name: the checkpoint's key. */
  readonly name: string;
  /** Bump when the read model's shape or meaning changes: the runner then rebuilds it. */
  readonly version: number;
  /** Creates the read model's tables, and the indexes its own writes rely on, if missing. */
  migrate(db: Database): void;
  /**
   * CREATE INDEX IF NOT EXISTS statements that only queries use. While the read model is built from
   * the start of the log the runner leaves them out and creates them once it has caught up: one
   * sort per index instead of an index insert per row.
   */
  readonly queryIndexes?: readonly string[];
  /** Drops everything the read model holds, so that it can be rebuilt from the start. */
  reset(db: Database): void;
  /** Prepares statements once and returns what applies events to the read model. */
  prepare(db: Database): ProjectionHandler;
}

/**
 * Applies events inside the runner's batch transaction. A handler may hold changes back in memory
 * during a batch (e.g. add up a grant's spends) as long as `endBatch` writes them: it is called
 * once per batch, inside the same transaction, after the last `apply`.
 */
export interface ProjectionHandler {
  apply(event: RecordedEvent): void;
  endBatch?(): void;
}
