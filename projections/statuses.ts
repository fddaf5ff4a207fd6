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

/**
 * Every projection the service runs (`known`), and any other the table still has a row for: a
 * projection without a row has projected nothing yet (a rebuild was cut off before its first batch,
 * or no server has started on these read models), and says so with a null position.
 */
export function projectionStatuses(
  db: Database,
  known: readonly { name: string; version: number }[] = [],
): ProjectionStatus[] {
  const rows = db
    .prepare<
      [],
      { name: string; version: number; position: string | null; log: string | null; failure: string | null }
    >('SELECT name, version, position, log, failure FROM projection_checkpoints ORDER BY name')
    .all()
    .map((row) => ({ ...row, failure: row.failure === null ? null : (JSON.parse(row.failure) as ProjectionFailure) }));
  const missing = known
    .filter((projection) => !rows.some((row) => row.name === projection.name))
    .map(({ name, version }) => ({ name, version, position: null, log: null, failure: null }));
  return [...rows, ...missing].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
