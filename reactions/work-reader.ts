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
 * Work an executor already has in hand, which the due queries leave out: pieces being performed
 * (whatever their due time), and pieces performed for the due time they still have, waiting for
 * their outcome to be derived. Left out in SQL, so that a query reads only what it hands back.
 */
export interface InHand {
  performing: readonly string[];
  waiting: readonly { key: string; dueAt: number }[];
}

const NOT_IN_HAND = `key NOT IN (SELECT value FROM json_each(@performing))
  AND key || ' ' || due_at NOT IN (SELECT value FROM json_each(@waiting))`;

type DueParameters = { reaction: string; now: number; limit: number; performing: string; waiting: string };

const dueParameters = (reaction: string, now: number, limit: number, inHand: InHand): DueParameters => ({
  reaction,
  now,
  limit,
  performing: JSON.stringify(inHand.performing),
  waiting: JSON.stringify(inHand.waiting.map(({ key, dueAt }) => `${key} ${dueAt}`)),
});

export class WorkReader {
  private readonly dueStatement: Statement<[DueParameters], WorkRow>;
  private readonly duePerPartitionStatement: Statement<
    [DueParameters & { perPartition: number; full: string }],
    WorkRow
  >;
  private readonly nextStatement: Statement<[string], { next: number | null }>;
  private readonly parkedStatement: Statement<[], WorkRow>;
  private readonly countsStatement: Statement<
    [],
    { reaction: string; pending: number; parked: number; oldest: number | null }
  >;

  constructor(db: Database) {
    this.dueStatement = db.prepare(
      `SELECT * FROM reaction_work WHERE reaction = @reaction AND parked = 0 AND due_at <= @now AND ${NOT_IN_HAND}
       ORDER BY due_at LIMIT @limit`,
    );
    // One partition after another (a skip-scan of the index on the partition, work-queue.ts), then
    // each partition's most overdue work: the cost grows with the partitions, not with a backlog.
    this.duePerPartitionStatement = db.prepare(
      `WITH RECURSIVE parts(p) AS (
         SELECT min(${PARTITION}) FROM reaction_work WHERE reaction = @reaction AND parked = 0
         UNION ALL
         SELECT (SELECT min(${PARTITION}) FROM reaction_work WHERE reaction = @reaction AND parked = 0 AND ${PARTITION} > parts.p)
         FROM parts WHERE parts.p IS NOT NULL
       )
       SELECT w.* FROM parts JOIN reaction_work w ON parts.p NOT IN (SELECT value FROM json_each(@full)) AND w.rowid IN (
         SELECT rowid FROM reaction_work
         WHERE reaction = @reaction AND parked = 0 AND ${PARTITION} = parts.p AND due_at <= @now AND ${NOT_IN_HAND}
         ORDER BY due_at LIMIT @perPartition
       )
       ORDER BY w.due_at LIMIT @limit`,
    );
    this.nextStatement = db.prepare('SELECT min(due_at) AS next FROM reaction_work WHERE reaction = ? AND parked = 0');
    this.parkedStatement = db.prepare('SELECT * FROM reaction_work WHERE parked = 1 ORDER BY requested_at');
    this.countsStatement = db.prepare(
      `SELECT reaction, sum(parked = 0) AS pending, sum(parked = 1) AS parked,
         min(CASE WHEN parked = 0 THEN requested_at END) AS oldest
       FROM reaction_work GROUP BY reaction`,
    );
  }

  /** Up to `limit` pieces of a reaction's work due by `now` and not in hand, the most overdue first. */
  due(reaction: string, now: number, limit: number, inHand: InHand): WorkItem[] {
    return this.dueStatement.all(dueParameters(reaction, now, limit, inHand)).map(item);
  }

  /**
   * Like `due`, but at most `perPartition` of each partition (the key's part before its first `/`)
   * and none of the `full` ones, so that a backlog of one partition cannot hide the others' due work.
   */
  duePerPartition(
    reaction: string,
    now: number,
    limit: number,
    inHand: InHand,
    partitions: { perPartition: number; full: readonly string[] },
  ): WorkItem[] {
    return this.duePerPartitionStatement
      .all({
        ...dueParameters(reaction, now, limit, inHand),
        perPartition: partitions.perPartition,
        full: JSON.stringify(partitions.full),
      })
      .map(item);
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
