/**
 * GET /readyz: whether this replica can serve, and what an operator should look at.
 *
 * 503 when it cannot do its job: the event store does not answer (`store-unreachable`: it is down,
 * or did not answer in time), answers with something the service cannot read (`store-unreadable`,
 * with the error: the store is reachable, a fault of the log or the adapter is to look at), or takes
 * no appends (`store-unwritable`), the read models cannot be written (`read-models-unwritable`, until
 * the fault clears: they resume by themselves), the log cannot be followed (`projection-failed`), or
 * the read models have not caught up with the log once since the start (`catching-up`: a server
 * started while its EventStoreDB node was down waits for it, and is not ready before it has).
 * 200 otherwise, `ready` or `degraded`: a read model that stopped at an event it cannot apply, or
 * reaction work parked after its retries, is named here while everything else goes on serving.
 * Lags are differences of positions: events for the embedded store, bytes of the log for
 * EventStoreDB, so 0 means caught up. The head is looked for with bounded work (EventStore
 * probeHeadPosition): when the store cannot tell it cheaply (EventStoreDB shared with applications
 * that wrote much since this service's last event), `head` and the lags are null, `headUnknown` is
 * true, and the verdict is made on the rest: the store did answer.
 *
 * What went wrong (error messages, the event a read model stopped at and its stream, which names a
 * workspace), positions, lags and counts of reaction work are shown only to operators: in
 * production, to a caller with METRICS_TOKEN.
 */
import type { Logger } from 'pino';
import { probeHead, StoreUnavailable } from '../eventstore/port';
import type { CreditsService } from './credits-service';

/** How long /readyz waits for the event store before calling it unreachable. */
const READINESS_TIMEOUT_MS = 2_000;

class NoAnswer extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswer(`the event store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function readiness(
  service: CreditsService,
  logger: Logger,
  detailed = true,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = await readinessBody(service, logger);
  return { status: body.status, body: detailed ? body.body : withoutDetails(body.body) };
}

/**
 * The answer for anyone: the verdict and what it rests on, without what went wrong (messages, the
 * events and streams read models stopped at) and without positions, lags or counts of work. The
 * log's head moves with every tenant's writes, so polling it would tell a stranger how busy the
 * service is; the operator's answer has them.
 */
function withoutDetails(body: Record<string, unknown>): Record<string, unknown> {
  const without = (part: unknown): unknown =>
    part && typeof part === 'object'
      ? Object.fromEntries(Object.entries(part).filter(([key]) => key !== 'error'))
      : part;
  const reactions = Array.isArray(body.reactions) ? (body.reactions as { name: string; parked: number }[]) : [];
  const parked = reactions.filter((reaction) => reaction.parked > 0).map((reaction) => reaction.name);
  return {
    status: body.status,
    ...('store' in body && { store: without(body.store) }),
    ...('readModels' in body && { readModels: without(body.readModels) }),
    ...('failedProjections' in body && { failedProjections: body.failedProjections }),
    ...(Array.isArray(body.projections) && {
      projections: (body.projections as { name: string; failed?: unknown }[]).map(({ name, failed }) =>
        failed ? { name, failed: true } : { name },
      ),
    }),
    ...(parked.length > 0 && { parkedReactions: parked }),
  };
}

async function readinessBody(
  service: CreditsService,
  logger: Logger,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const lagBehind = (head: bigint | undefined | 'unknown', reached: bigint | undefined) =>
    head === 'unknown' ? null : head === undefined ? 0 : Number(head - (reached ?? 0n));
  // Taken before the head is asked for, so that events projected meanwhile cannot put them past it.
  const progress = service.projections.progress;
  const projections = (head: bigint | undefined | 'unknown', reachable: boolean) =>
    progress.map(({ name, checkpoint, failure }) => ({
      name,
      projected: checkpoint?.toString() ?? null,
      lag: reachable ? lagBehind(head, checkpoint) : null,
      ...(failure && { failed: failure }),
    }));
  const reached = service.projections.checkpoint;
  let head: bigint | undefined | 'unknown';
  try {
    head = await withTimeout(probeHead(service.store), READINESS_TIMEOUT_MS);
  } catch (error) {
    logger.warn({ err: error }, 'readiness check failed');
    // Only the transport's failures and silence say the store is unreachable; anything else (an
    // event of the log the adapter cannot decode) came from a store that did answer.
    const reachable = !(error instanceof StoreUnavailable || error instanceof NoAnswer);
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 503,
      body: {
        status: reachable ? 'store-unreadable' : 'store-unreachable',
        store: reachable ? { reachable, readable: false, error: message } : { reachable, error: message },
        head: null,
        projected: reached?.toString() ?? null,
        lag: null,
        projections: projections(undefined, false),
      },
    };
  }
  const unwritable = service.appendFailure();
  const stalled = service.projections.stalledBy;
  // Read models past the log's head were built from events it no longer has: the log went back.
  const ahead = progress.find(
    ({ checkpoint }) => checkpoint !== undefined && head !== 'unknown' && (head === undefined || checkpoint > head),
  );
  const lost =
    service.projections.error ??
    (ahead &&
      new Error(
        `The read model ${ahead.name} is at position ${ahead.checkpoint}, past the log's head (${head ?? 'empty'}): ` +
          'the event log went back under this server (restored from a backup?). Restart the server: at start, ' +
          'the read models built from events the log no longer has are rebuilt from it.',
      ));
  // Started while the event store did not answer: the read models have not caught up with it yet.
  const starting = !service.projections.caughtUpOnce;
  const failed = service.projections.progress.filter((position) => position.failure).map((position) => position.name);
  const reactions = service.reactions.reader.counts();
  const parked = reactions.reduce((sum, reaction) => sum + reaction.parked, 0);
  const status = unwritable
    ? 'store-unwritable'
    : stalled
      ? 'read-models-unwritable'
      : lost
        ? 'projection-failed'
        : starting
          ? 'catching-up'
          : failed.length > 0 || parked > 0
            ? 'degraded'
            : 'ready';
  return {
    status: unwritable || stalled || lost || starting ? 503 : 200,
    body: {
      status,
      store: unwritable ? { reachable: true, writable: false, error: unwritable.message } : { reachable: true },
      ...(stalled && { readModels: { writable: false, error: stalled.message } }),
      ...(lost && { error: lost.message }),
      ...(failed.length > 0 && { failedProjections: failed }),
      head: head === 'unknown' ? null : (head?.toString() ?? null),
      ...(head === 'unknown' && { headUnknown: true }),
      projected: reached?.toString() ?? null,
      lag: lagBehind(head, reached),
      projections: projections(head, true),
      reactions: reactions.map(({ reaction, pending, parked: parkedWork, oldestRequestedAt }) => ({
        name: reaction,
        pending,
        parked: parkedWork,
        oldestPendingSince: oldestRequestedAt === undefined ? null : new Date(oldestRequestedAt).toISOString(),
      })),
    },
  };
}
