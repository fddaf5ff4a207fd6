/**
 * The append thread's entry point (see append-thread.ts): one connection to the event store file,
 * committing each group of appends it is sent and answering with what became of each append.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openEventsDatabase } from './database';
import type { FromAppendWorker, ToAppendWorker } from './append-thread';
import { failureOf, groupCommitter } from './group-commit';

const port = parentPort;
if (!port) throw new Error('append-worker.js runs as a worker thread of the event store');
const { file, maxPages } = workerData as { file: string; maxPages: number | undefined };
const db = openEventsDatabase(file, { forAppends: true });
if (maxPages !== undefined) db.pragma(`max_page_count = ${Math.floor(maxPages)}`);
const commit = groupCommitter(db);
const answer = (message: FromAppendWorker): void => port.postMessage(message);

port.on('message', (message: ToAppendWorker) => {
  if (message.type === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    answer({ type: 'committed', id: message.id, outcomes: commit(message.group) });
  } catch (error) {
    answer({ type: 'failed', id: message.id, failure: failureOf(error) });
  }
});
answer({ type: 'ready' });
