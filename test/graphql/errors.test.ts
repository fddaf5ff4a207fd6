/**
 * How a write the event store refused reaches a client: in production too, with its code and its
 * message, which says that nothing was recorded and that repeating it later is safe, rather than as
 * an internal error that reads as if anything may have happened.
 */
import { GraphQLError } from 'graphql';
import pino from 'pino';
import { StoreUnavailable } from '../../src/eventstore/port';
import { formatError } from '../../src/graphql/errors';

it('answers a write the disk refused with STORE_UNAVAILABLE, retryable, in production too', () => {
  const refused = new StoreUnavailable(
    Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
    true,
  );
  const error = new GraphQLError(refused.message, { path: ['consumeCredits'], originalError: refused });
  const answer = formatError(error.toJSON(), error, { production: true, logger: pino({ level: 'silent' }) });
  expect(answer.message).toBe(
    'Nothing was recorded: the event store cannot write now (database or disk is full). ' +
      'Repeating the request later, with the same idempotency key, is safe.',
  );
  expect(answer.extensions).toEqual({ code: 'STORE_UNAVAILABLE', retryable: true });
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
