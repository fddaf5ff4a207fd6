/**
 * Replays the event log: rebuilds read models from the start, or runs an analyst's own projection
 * module over the whole history. Both report how many events they read and how fast.
 */
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Database } from 'better-sqlite3';
import type { Projection } from '../../projections/projection';
import { ProjectionRunner } from '../../projections/runner';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import { upcast } from '../events/upcasters';

export interface ReplaySummary {
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

function progressBar(total: number, enabled: boolean): SingleBar | undefined {
  if (!enabled || total === 0) return undefined;
  const bar = new SingleBar({
    format: 'replay [{bar}] {percentage}% | {value}/{total} events | {eps} events/s | eta {eta_formatted}',
    noTTYOutput: true,
    notTTYSchedule: 2000,
    hideCursor: true,
  });
  bar.start(total, 0, { eps: 0 });
  return bar;
}

const summarize = (events: number, startedAt: number): ReplaySummary => {
  const seconds = (performance.now() - startedAt) / 1000;
  return { events, seconds, eventsPerSecond: seconds > 0 ? Math.round(events / seconds) : events };
};

/** Empties the given read models and projects the whole log into them again. */
export async function rebuildProjections(
  store: EventStore,
  readModels: Database,
  projections: readonly Projection[],
  options: { progress: boolean },
): Promise<ReplaySummary> {
  const head = await store.headPosition();
  const total = Number(head ?? 0n);
  const bar = progressBar(total, options.progress);
  const startedAt = performance.now();
  let events = 0;
  const runner = new ProjectionRunner(store, readModels, projections, {
    batchSize: 10_000,
    onCommitted: (batch) => {
      events += batch.length;
      bar?.update(Number((batch[batch.length - 1] as RecordedEvent).position), {
        eps: Math.round(events / ((performance.now() - startedAt) / 1000)),
      });
    },
  });
  runner.resetAll();
  await runner.start();
  await runner.stop();
  bar?.update(total);
  bar?.stop();
  return summarize(events, startedAt);
}

/**
 * An analyst's projection: a CommonJS or ES module exporting `init()`, `apply(state, event)` and,
 * optionally, `result(state)`. Events arrive oldest first, upcast to their current shape, as plain
 * JSON (`position` as a string).
 */
export interface AnalystProjection<S = unknown> {
  init(): S;
  apply(state: S, event: AnalystEvent): S | undefined;
  result?(state: S): unknown;
}

export interface AnalystEvent {
  id: string;
  type: string;
  streamName: string;
  position: string;
  revision: string;
  recordedAt: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export async function loadAnalystProjection(file: string): Promise<AnalystProjection> {
  const loaded = (await import(resolve(file))) as { default?: AnalystProjection } & Partial<AnalystProjection>;
  const module = typeof loaded.apply === 'function' ? loaded : loaded.default;
  if (!module || typeof module.init !== 'function' || typeof module.apply !== 'function') {
    throw new Error(`${file} must export init() and apply(state, event) (and optionally result(state)).`);
  }
  return module as AnalystProjection;
}

const PAGE = 5_000;

/**
 * An analyst's apply() threw. Its message alone does not say which of millions of events broke the
 * projection; this names the event (position, type, stream, id) so the analyst can look it up.
 */
export class ProjectionApplyError extends Error {
  constructor(event: RecordedEvent, cause: unknown) {
    super(
      `apply() failed on the event at position ${event.position} (${event.type} in stream ${event.streamName}, ` +
        `revision ${event.revision}, id ${event.id}): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'ProjectionApplyError';
  }
}

export async function runAnalystProjection(
  store: EventStore,
  projection: AnalystProjection,
  options: { progress: boolean },
): Promise<{ result: unknown; summary: ReplaySummary }> {
  const head = await store.headPosition();
  const bar = progressBar(Number(head ?? 0n), options.progress);
  const startedAt = performance.now();
  let state = projection.init();
  let events = 0;
  let after: bigint | undefined;
  for (;;) {
    const page = await store.readAll({ ...(after !== undefined && { after }), maxCount: PAGE });
    if (page.length === 0) break;
    for (const recorded of page) {
      const event = upcast(recorded);
      try {
        state =
          projection.apply(state, {
            id: event.id,
            type: event.type,
            streamName: event.streamName,
            position: event.position.toString(),
            revision: event.revision.toString(),
            recordedAt: event.recordedAt.toISOString(),
            schemaVersion: event.schemaVersion,
            data: event.data,
            metadata: event.metadata,
          }) ?? state;
      } catch (error) {
        throw new ProjectionApplyError(event, error);
      }
    }
    events += page.length;
    after = (page[page.length - 1] as RecordedEvent).position;
    bar?.update(Number(after), { eps: Math.round(events / ((performance.now() - startedAt) / 1000)) });
    if (head !== undefined && after >= head) break;
  }
  bar?.stop();
  return { result: projection.result ? projection.result(state) : state, summary: summarize(events, startedAt) };
}
