/**
 * The reactions' work: one row per requested side effect that has no recorded outcome yet, with
 * when it is due and how many attempts failed. Only derivations write it (on the projection thread,
 * in the projection batch's transaction); performers read it.
 */
import type { Database, Statement } from 'better-sqlite3';

/**
 * The partition of a piece of work: its key up to the first '/' (one webhook endpoint), or '' when
 * the key has none. An executor may bound the work it performs at once per partition.
 */
export const PARTITION = "substr(key, 1, instr(key, '/') - 1)";

export const WORK_SCHEMA = `
  CREATE TABLE IF NOT EXISTS reaction_work (
    reaction TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    parked INTEGER NOT NULL DEFAULT 0,
    requested_at INTEGER NOT NULL,
    PRIMARY KEY (reaction, key)
  );
  -- The looks for due work read these indexes alone (work-reader.ts): they hold each piece's key.
  DROP INDEX IF EXISTS reaction_work_due;
  DROP INDEX IF EXISTS reaction_work_by_partition;
  CREATE INDEX IF NOT EXISTS reaction_work_due_keys ON reaction_work (reaction, parked, due_at, key);
  CREATE INDEX IF NOT EXISTS reaction_work_keys_by_partition ON reaction_work (reaction, parked, ${PARTITION}, due_at, key);
`;

export class WorkQueue {
  private readonly upsert: Statement;
  private readonly remove: Statement<[string, string]>;
  private readonly select: Statement<[string, string], { payload: string }>;
  private readonly failure: Statement;
  private readonly failureOf: Statement;
  private readonly retry: Statement;
  private readonly defer: Statement;
  private readonly deferWith: Statement;
  private readonly repay: Statement;

  constructor(
    db: Database,
    private readonly reaction: string,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO reaction_work (reaction, key, payload, due_at, requested_at) VALUES (@reaction, @key, @payload, @dueAt, @dueAt)
       ON CONFLICT (reaction, key) DO UPDATE SET payload = excluded.payload, due_at = excluded.due_at,
         attempts = 0, last_error = NULL, parked = 0`,
    );
    this.remove = db.prepare('DELETE FROM reaction_work WHERE reaction = ? AND key = ?');
    this.select = db.prepare('SELECT payload FROM reaction_work WHERE reaction = ? AND key = ?');
    this.failure = db.prepare(
      `UPDATE reaction_work SET attempts = @attempts, last_error = @error, parked = @parked, due_at = @dueAt
       WHERE reaction = @reaction AND key = @key`,
    );
    this.failureOf = db.prepare(
      `UPDATE reaction_work SET attempts = @attempts, last_error = @error, parked = @parked, due_at = @dueAt
       WHERE reaction = @reaction AND key = @key AND payload = @performed`,
    );
    this.retry = db.prepare(
      `UPDATE reaction_work SET attempts = 0, parked = 0, due_at = @dueAt WHERE reaction = @reaction AND key = @key`,
    );
    this.defer = db.prepare(`UPDATE reaction_work SET due_at = @dueAt WHERE reaction = @reaction AND key = @key`);
    this.deferWith = db.prepare(
      `UPDATE reaction_work SET due_at = @dueAt, payload = @payload
       WHERE reaction = @reaction AND key = @key AND payload = @performed`,
    );
    this.repay = db.prepare('UPDATE reaction_work SET payload = @payload WHERE reaction = @reaction AND key = @key');
  }

  /**
   * Work to do at `dueAt` (epoch ms), or a new payload and time for work already waiting: new work
   * then (a pending refund to look at, once making it was parked), so its failures and parking
   * start afresh.
   */
  schedule(key: string, payload: unknown, dueAt: number): void {
    this.upsert.run({ reaction: this.reaction, key, payload: JSON.stringify(payload), dueAt });
  }

  /** The outcome is recorded: nothing more to do. */
  complete(key: string): void {
    this.remove.run(this.reaction, key);
  }

  payload<Payload>(key: string): Payload | undefined {
    const row = this.select.get(this.reaction, key);
    return row === undefined ? undefined : (JSON.parse(row.payload) as Payload);
  }

  /**
   * An attempt failed: try again at `nextAttemptAt`, or never (parked) when it is null. With
   * `performed`, the payload of the work that failed: when the derivation has scheduled the work
   * anew since (the attempt's outcome came from elsewhere first, with the next attempt's own time
   * and payload), the late failure changes nothing.
   */
  failed(key: string, attempts: number, error: string, nextAttemptAt: number | null, performed?: unknown): void {
    const fields = {
      reaction: this.reaction,
      key,
      attempts,
      error,
      parked: nextAttemptAt === null ? 1 : 0,
      dueAt: nextAttemptAt ?? 0,
    };
    if (performed === undefined) this.failure.run(fields);
    else this.failureOf.run({ ...fields, performed: JSON.stringify(performed) });
  }

  /** An operator asked for parked work to be tried again, afresh. */
  retried(key: string, dueAt: number): void {
    this.retry.run({ reaction: this.reaction, key, dueAt });
  }

  /** A new payload for work waiting, due when it was. */
  updatePayload(key: string, payload: unknown): void {
    this.repay.run({ reaction: this.reaction, key, payload: JSON.stringify(payload) });
  }

  /**
   * Look again at `dueAt` with a new payload (what the look learned), unless the work changed since
   * the payload that was performed (the derivation scheduled it anew meanwhile: that stands).
   */
  deferredWith(key: string, dueAt: number, performed: unknown, payload: unknown): void {
    this.deferWith.run({
      reaction: this.reaction,
      key,
      dueAt,
      performed: JSON.stringify(performed),
      payload: JSON.stringify(payload),
    });
  }

  /** Look again at `dueAt`: the work is waiting on someone else (a refund still pending). */
  deferred(key: string, dueAt: number): void {
    this.defer.run({ reaction: this.reaction, key, dueAt });
  }
}
