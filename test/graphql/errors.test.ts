/**
 * How a write the event store refused reaches a client: in production too, with its code and its
 * message, which says that nothing was recorded and that repeating it later is safe, rather than as
 * an internal error that reads as if anything may have happened; in production without the store's
 * own error. A stopped read model, likewise, without its event and error in production.
 */
import { GraphQLError } from 'graphql';
import pino from 'pino';
import { StoreUnavailable } from '../../src/eventstore/port';
import { formatError } from '../../src/graphql/errors';
import { REPEAT_INTERVAL_MS } from '../../src/graphql/repeated-errors';
import { ReadModelUnavailable } from '../../src/queries/credits-queries';

const answered = (originalError: Error, production: boolean) => {
  const error = new GraphQLError(originalError.message, { path: ['consumeCredits'], originalError });
  return formatError(error.toJSON(), error, { production, logger: pino({ level: 'silent' }) });
};

it('answers a write the disk refused with STORE_UNAVAILABLE, retryable, in production too', () => {
  const refused = new StoreUnavailable(
    Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
    true,
  );
  // In production without the store's own words, which may name files, hosts and ports.
  const answer = answered(refused, true);
  expect(answer.message).toBe(
    'Nothing was recorded: the event store cannot write now. ' +
      'Repeating the request later, with the same idempotency key, is safe.',
  );
  expect(answer.extensions).toEqual({ code: 'STORE_UNAVAILABLE', retryable: true });
  expect(answered(refused, false).message).toBe(
    'Nothing was recorded: the event store cannot write now (database or disk is full). ' +
      'Repeating the request later, with the same idempotency key, is safe.',
  );
});

it('does not tell a client in production which host an unreachable EventStoreDB is at', () => {
  const lost = new StoreUnavailable(
    new Error('14 UNAVAILABLE: No connection established to esdb-0.internal:2113'),
    false,
  );
  const answer = answered(lost, true);
  expect(answer.message).not.toMatch(/esdb-0|2113|UNAVAILABLE:/);
  expect(answer.message).toMatch(/^This may or may not have been recorded: the event store cannot write now\. /);
  expect(answered(lost, false).message).toContain('esdb-0.internal:2113');
});

it('answers a stopped read model with READ_MODEL_UNAVAILABLE, its event and error for operators only', () => {
  const stopped = new ReadModelUnavailable('credit-purchases', {
    position: '1234',
    eventType: 'CreditsPurchased',
    error: "Cannot read properties of undefined (reading '0')",
  });
  const answer = answered(stopped, true);
  expect(answer.extensions).toEqual({ code: 'READ_MODEL_UNAVAILABLE', readModel: 'credit-purchases' });
  expect(answer.message).toBe(
    'The credit-purchases read model is unavailable: it stopped at an event it cannot apply, and an operator has been told. Everything else keeps working.',
  );
  expect(answered(stopped, false).message).toContain(
    'stopped at event 1234 (CreditsPurchased): Cannot read properties',
  );
});

it('says an I/O error while syncing may not have recorded it, not that nothing was', () => {
  const refused = new StoreUnavailable(
    Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_FSYNC' }),
    false,
  );
  expect(refused.message).toMatch(
    /^This may or may not have been recorded: .*with the same idempotency key is safe.*takes no key: read the state before repeating it\.$/,
  );
});

it('still hides an unexpected error in production', () => {
  const error = new GraphQLError('boom', { path: ['x'], originalError: new Error('SQLITE_CORRUPT at /data/x') });
  const answer = formatError(error.toJSON(), error, { production: true, logger: pino({ level: 'silent' }) });
  expect(answer.message).not.toContain('SQLITE');
  expect(answer.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
});

it('logs a full disk once with its stack, then once per interval with a count, not once per request', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const full = new StoreUnavailable(
    Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
    true,
  );
  const answer = () => {
    const error = new GraphQLError(full.message, { path: ['consumeCredits'], originalError: full });
    return formatError(error.toJSON(), error, { production: true, logger });
  };
  let now = Date.parse('2026-12-05T08:00:00Z');
  const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
  try {
    for (let i = 0; i < 1000; i += 1) {
      expect(answer().extensions?.code).toBe('STORE_UNAVAILABLE');
      now += 5; // 5 s in all
    }
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0]?.err)).toContain('database or disk is full');
    now += REPEAT_INTERVAL_MS;
    answer();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ error: full.message, repeated: 1000 });
    expect(lines[1]).not.toHaveProperty('err');
    // Another error is its own: logged whole at once.
    const lost = new StoreUnavailable(new Error('14 UNAVAILABLE: No connection established'), false);
    const error = new GraphQLError(lost.message, { path: ['consumeCredits'], originalError: lost });
    formatError(error.toJSON(), error, { production: true, logger });
    expect(lines).toHaveLength(3);
    expect(lines[2]).toHaveProperty('err');
  } finally {
    clock.mockRestore();
  }
});
