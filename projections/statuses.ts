/**
 * Where each read model (and reaction derivation) stands, as its checkpoint row says: the position
 * it has projected the log to, and, when it stopped at an event it could not apply, that event and
 * the error. Read by `credits projections` in a process of its own.
 */
import type { Database } from 'better-sqlite3';
import type { ProjectionFailure } from './runner';

export interface ProjectionStatus {
  name: string;
  version: number;
  position: string | null;
  /** The identity of the log it was built from (EventStore.identity); null before any batch. */
  log: string | null;
  failure: ProjectionFailure | null;
}

export function projectionStatuses(db: Database): ProjectionStatus[] {
  return db
    .prepare<
      [],
      { name: string; version: number; position: string | null; log: string | null; failure: string | null }
    >('SELECT name, version, position, log, failure FROM projection_checkpoints ORDER BY name')
    .all()
    .map((row) => ({ ...row, failure: row.failure === null ? null : (JSON.parse(row.failure) as ProjectionFailure) }));
}
