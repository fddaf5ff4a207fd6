/** What the performers and operators read of the reactions' work (see work-queue.ts). */
import type { Database, Statement } from 'better-sqlite3';
import type { WorkItem } from './reaction';

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

export class WorkReader {
  private readonly dueStatement: Statement<[string, number, number], WorkRow>;
  private readonly duePerPartitionStatement: Statement<[string, number, number, number], WorkRow>;
  private readonly nextStatement: Statement<[], { next: number | null }>;
  private readonly parkedStatement: Statement<[], WorkRow>;
  private readonly countsStatement: Statement<
    [],
    { reaction: string; pending: number; parked: number; oldest: number | null }
  >;

  constructor(db: Database) {
    this.dueStatement = db.prepare(
      'SELECT * FROM reaction_work WHERE reaction = ? AND parked = 0 AND due_at <= ? ORDER BY due_at LIMIT ?',
    );
    this.duePerPartitionStatement = db.prepare(
      `SELECT * FROM (
         SELECT *, row_number() OVER (PARTITION BY substr(key, 1, instr(key, '/') - 1) ORDER BY due_at) AS rank
         FROM reaction_work WHERE reaction = ? AND parked = 0 AND due_at <= ?
       ) WHERE rank <= ? ORDER BY due_at LIMIT ?`,
    );
    this.nextStatement = db.prepare('SELECT min(due_at) AS next FROM reaction_work WHERE parked = 0');
    this.parkedStatement = db.prepare('SELECT * FROM reaction_work WHERE parked = 1 ORDER BY requested_at');
    this.countsStatement = db.prepare(
      `SELECT reaction, sum(parked = 0) AS pending, sum(parked = 1) AS parked,
         min(CASE WHEN parked = 0 THEN requested_at END) AS oldest
       FROM reaction_work GROUP BY reaction`,
    );
  }

  /** Up to `limit` pieces of a reaction's work due by `now`, the most overdue first. */
  due(reaction: string, now: number, limit: number): WorkItem[] {
    return this.dueStatement.all(reaction, now, limit).map(item);
  }

  /**
   * Like `due`, but at most `perPartition` of each partition (the key's part before its first `/`),
   * so that a backlog of one partition cannot hide the others' due work.
   */
  duePerPartition(reaction: string, now: number, perPartition: number, limit: number): WorkItem[] {
    return this.duePerPartitionStatement.all(reaction, now, perPartition, limit).map(item);
  }

  /** When the next piece of work of any reaction is due; undefined when there is none. */
  nextDue(): number | undefined {
    return this.nextStatement.get()?.next ?? undefined;
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
