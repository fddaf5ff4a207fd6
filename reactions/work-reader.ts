/** What the performers and operators read of the reactions' work (see work-queue.ts). */
import type { Database, Statement } from 'better-sqlite3';
import type { WorkItem } from './reaction';
import { PARTITION } from './work-queue';

interface WorkRow {
  reaction: string;
  key: string;
  payload: string;
  due_at: number;
  attempts: number;
  last_error: string | null;
  parked: number;
  requested_at: number;
}

export interface ParkedWork {
  reaction: string;
  key: string;
  payload: unknown;
  attempts: number;
  lastError: string | undefined;
  requestedAt: Date;
}

const item = (row: WorkRow): WorkItem => ({
  reaction: row.reaction,
  key: row.key,
  payload: JSON.parse(row.payload) as unknown,
  attempts: row.attempts,
  dueAt: row.due_at,
  requestedAt: row.requested_at,
});

/**
 * Due work as a look for work sees it: its key and due time only, read from the index alone, so
 * that the pieces a look leaves out (being performed, or held back) cost little. `item` reads the
 * rest of the pieces it takes.
 */
export interface DueWork {
  key: string;
  dueAt: number;
}

const dueWork = ([key, dueAt]: [string, number]): DueWork => ({ key, dueAt });

export class WorkReader {
  private readonly dueStatement: Statement<[string, number, number], [string, number]>;
  private readonly partitionsStatement: Statement<[{ reaction: string }], string>;
  private readonly dueInPartitionStatement: Statement<[string, string, number, number], [string, number]>;
  private readonly itemStatement: Statement<[string, string], WorkRow>;
  private readonly nextStatement: Statement<[string], { next: number | null }>;
  private readonly parkedStatement: Statement<[], WorkRow>;
  private readonly countsStatement: Statement<
    [],
    { reaction: string; pending: number; parked: number; oldest: number | null }
  >;

  /** Runs `read` in one read transaction: its statements share one snapshot and take the file's locks once. */
  readonly together: <T>(read: () => T) => T;

  constructor(db: Database) {
    const inOneTransaction = db.transaction((read: () => unknown) => read());
    this.together = <T>(read: () => T): T => inOneTransaction(read) as T;
    this.dueStatement = db
      .prepare<[string, number, number], [string, number]>(
        'SELECT key, due_at FROM reaction_work WHERE reaction = ? AND parked = 0 AND due_at <= ? ORDER BY due_at LIMIT ?',
      )
      .raw();
    // One partition after another, a skip-scan of the index on the partition (work-queue.ts): the
    // cost grows with the partitions that have work, not with the work waiting in them.
    this.partitionsStatement = db
      .prepare<[{ reaction: string }], string>(
        `WITH RECURSIVE parts(p) AS (
           SELECT min(${PARTITION}) FROM reaction_work WHERE reaction = @reaction AND parked = 0
           UNION ALL
           SELECT (SELECT min(${PARTITION}) FROM reaction_work WHERE reaction = @reaction AND parked = 0 AND ${PARTITION} > parts.p)
           FROM parts WHERE parts.p IS NOT NULL
         )
         SELECT p FROM parts WHERE p IS NOT NULL`,
      )
      .pluck();
    this.dueInPartitionStatement = db
      .prepare<[string, string, number, number], [string, number]>(
        `SELECT key, due_at FROM reaction_work WHERE reaction = ? AND parked = 0 AND ${PARTITION} = ? AND due_at <= ?
         ORDER BY due_at LIMIT ?`,
      )
      .raw();
    this.itemStatement = db.prepare('SELECT * FROM reaction_work WHERE reaction = ? AND key = ?');
    this.nextStatement = db.prepare('SELECT min(due_at) AS next FROM reaction_work WHERE reaction = ? AND parked = 0');
    this.parkedStatement = db.prepare('SELECT * FROM reaction_work WHERE parked = 1 ORDER BY requested_at');
    this.countsStatement = db.prepare(
      `SELECT reaction, sum(parked = 0) AS pending, sum(parked = 1) AS parked,
         min(CASE WHEN parked = 0 THEN requested_at END) AS oldest
       FROM reaction_work GROUP BY reaction`,
    );
  }

  /** Up to `limit` pieces of a reaction's work due by `now`, the most overdue first. */
  due(reaction: string, now: number, limit: number): DueWork[] {
    return this.dueStatement.all(reaction, now, limit).map(dueWork);
  }

  /** A piece of work as its performer gets it; undefined once it is done or dropped. */
  item(reaction: string, key: string): WorkItem | undefined {
    const row = this.itemStatement.get(reaction, key);
    return row && item(row);
  }

  /**
   * The partitions of a reaction's work that has not been parked (the key's part before its first
   * `/`: one webhook endpoint each), due or not.
   */
  partitions(reaction: string): string[] {
    return this.partitionsStatement.all({ reaction });
  }

  /** Like `due`, within one partition. */
  dueIn(reaction: string, partition: string, now: number, limit: number): DueWork[] {
    return this.dueInPartitionStatement.all(reaction, partition, now, limit).map(dueWork);
  }

  /** When the next piece of work of these reactions is due; undefined when there is none. */
  nextDue(reactions: readonly string[]): number | undefined {
    let next: number | undefined;
    for (const reaction of reactions) {
      const due = this.nextStatement.get(reaction)?.next ?? undefined;
      if (due !== undefined && (next === undefined || due < next)) next = due;
    }
    return next;
  }

  parked(): ParkedWork[] {
    return this.parkedStatement.all().map((row) => ({
      reaction: row.reaction,
      key: row.key,
      payload: JSON.parse(row.payload) as unknown,
      attempts: row.attempts,
      lastError: row.last_error ?? undefined,
      requestedAt: new Date(row.requested_at),
    }));
  }

  /** Per reaction: work waiting, work parked, and when the oldest waiting piece was requested. */
  counts(): { reaction: string; pending: number; parked: number; oldestRequestedAt: number | undefined }[] {
    return this.countsStatement.all().map((row) => ({
      reaction: row.reaction,
      pending: row.pending,
      parked: row.parked,
      oldestRequestedAt: row.oldest ?? undefined,
    }));
  }
}
