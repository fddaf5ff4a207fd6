/**
 * Which workspace a hold belongs to, for a settle, release or extension that names only the hold:
 * a hold this server's read models have not seen yet (reserved a moment ago through another
 * replica, or a server still projecting the log) is looked for again once they have caught up with
 * the log, and only then not found.
 */
import type { CreditHoldsReader } from '../../projections/credit-holds-reader';
import { HoldQueries } from '../../src/queries/hold-queries';

const clock = { now: () => new Date('2026-12-03T00:00:00Z') };

/** A read model that sees `holdId` only once it has caught up. */
function lagging(holdId: string) {
  const seen = new Map<string, string>();
  let catchUps = 0;
  const reader = { workspaceOfHold: (id: string) => seen.get(id) } as unknown as CreditHoldsReader;
  return {
    reader,
    catchUps: () => catchUps,
    catchUp: (caughtUp: boolean) => () => {
      catchUps += 1;
      if (caughtUp) seen.set(holdId, 'ws-1');
      return Promise.resolve(caughtUp);
    },
  };
}

describe('the workspace of a hold', () => {
  it('is found once the read models have caught up with the log', async () => {
    const model = lagging('hold-1');
    const queries = new HoldQueries(model.reader, clock, () => undefined, model.catchUp(true));
    await expect(queries.workspaceOfHold('hold-1')).resolves.toBe('ws-1');
    expect(model.catchUps()).toBe(1);
    // Seen now: no more waiting.
    await expect(queries.workspaceOfHold('hold-1')).resolves.toBe('ws-1');
    expect(model.catchUps()).toBe(1);
  });

  it('is NOT_FOUND when the caught-up read models do not have it', async () => {
    const model = lagging('hold-1');
    const queries = new HoldQueries(model.reader, clock, () => undefined, model.catchUp(true));
    await expect(queries.workspaceOfHold('hold-2')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { id: 'hold-2' },
    });
  });

  it('says the server is still catching up, and that trying again may help, when it could not in time', async () => {
    const model = lagging('hold-1');
    const queries = new HoldQueries(model.reader, clock, () => undefined, model.catchUp(false));
    await expect(queries.workspaceOfHold('hold-1')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('catching up') as unknown,
      details: { id: 'hold-1', retryable: true },
    });
  });
});
