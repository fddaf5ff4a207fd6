/**
 * Keeping only a few remembered spends and ended holds in memory changes no answer: random
 * histories of the money model (mostly spends and holds reserved, settled, released and extended;
 * also refunds, purchases, expiries, clock steps) with client retries of earlier commands mixed in, sent both to
 * the model, whose state remembers everything, and to the command handler with a retry record store
 * that keeps two of each in memory, restarted now and then (from its snapshots). Every command must
 * get the same events, or the same refusal, from both.
 *
 * Histories stop short of the 7-day key window: past it, whether an old record is still remembered
 * depends on when each side last forgot, which no client may count on.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import type { WorkspaceCreditsCommand } from '../../src/domain/commands';
import { decide } from '../../src/domain/decide';
import { isCreditsError } from '../../src/domain/errors';
import type { WorkspaceCreditsEvent } from '../../src/domain/events';
import { IDEMPOTENCY_RETENTION_MS } from '../../src/domain/state';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { openFileSnapshotStore } from '../../src/snapshots/file-snapshot-store';
import type { RetryRecordStore } from '../../src/snapshots/port';
import { openSqliteRetryRecords } from '../../src/snapshots/sqlite-retry-records';
import { MoneyModel, rememberingSteps, steps } from '../domain/properties/money-model';

const seed = Number(process.env.FC_SEED ?? 20261203);
const numRuns = Number(process.env.FC_RUNS ?? 25);

type Answer = { events: unknown[] } | { refused: string };

const described = (events: readonly WorkspaceCreditsEvent[]) => events.map(({ type, data }) => ({ type, data }));

/** The model's answer: the events it recorded, or the code it refused with. */
function modelAnswer(model: MoneyModel, command: WorkspaceCreditsCommand): Answer {
  try {
    decide(command, model.state);
  } catch (error) {
    if (isCreditsError(error)) return { refused: error.code };
    throw error;
  }
  return { events: described(model.run(command)) };
}

async function handlerAnswer(handler: WorkspaceCreditsCommandHandler, command: WorkspaceCreditsCommand) {
  try {
    const { events } = await handler.handle(command, { actorId: 'property' }, () => undefined);
    return { events: described(events) };
  } catch (error) {
    if (isCreditsError(error)) return { refused: error.code };
    throw error;
  }
}

it('answers every command and every retry as a state that keeps everything in memory does', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof({ arbitrary: rememberingSteps, weight: 3 }, { arbitrary: steps, weight: 1 }),
      fc.array(fc.option(fc.nat(), { freq: 2 }), { minLength: 120, maxLength: 120 }),
      fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }),
      async (history, retries, restarts) => {
        const dir = mkdtempSync(join(tmpdir(), 'credits-retry-property-'));
        const store = openSqliteEventStore({ file: join(dir, 'events.sqlite') });
        const snapshots = openFileSnapshotStore(join(dir, 'snapshots'));
        const opened: RetryRecordStore[] = [];
        const start = () => {
          const retryRecords = openSqliteRetryRecords(join(dir, 'retry-records.sqlite'));
          opened.push(retryRecords);
          return new WorkspaceCreditsCommandHandler(store, {
            retryRecords,
            retryRecordsInMemory: 2,
            snapshots,
            snapshotEvery: 3,
            snapshotIntervalMs: 0,
          });
        };
        const model = new MoneyModel();
        const startedAt = model.now;
        let handler = start();
        const sent: WorkspaceCreditsCommand[] = [];
        const send = async (command: WorkspaceCreditsCommand, step: number) => {
          const expected = modelAnswer(model, command);
          const actual = await handlerAnswer(handler, command);
          if (JSON.stringify(actual) !== JSON.stringify(expected)) {
            throw new Error(
              `step ${step}, ${command.type}: the handler answered ${JSON.stringify(actual)}, a state remembering everything ${JSON.stringify(expected)}`,
            );
          }
        };
        try {
          for (const [index, step] of history.entries()) {
            if (model.now - startedAt >= IDEMPOTENCY_RETENTION_MS - 24 * 60 * 60 * 1000) break;
            for (const command of step(model)) {
              await send(command, index);
              sent.push(command);
            }
            // A client retries a command it sent before, as it was sent.
            const retry = retries[index];
            const earlier = retry === null || retry === undefined ? undefined : sent[retry % Math.max(1, sent.length)];
            if (earlier) await send(earlier, index);
            if (restarts[index]) {
              await handler.close();
              handler = start();
            }
          }
        } finally {
          await handler.close();
          for (const retryRecords of opened) retryRecords.close();
          await store.close();
          model.close();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    ),
    { seed, numRuns },
  );
}, 120_000);
