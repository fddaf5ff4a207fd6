/**
 * Turns for long folds (src/queries/fold-turns.ts): one slice at a time in the process, the event
 * loop's other work between two slices, and workspaces taking turns.
 */
import { FoldTurns } from '../../src/queries/fold-turns';

/** A fold of `slices` slices, each in a turn of its own, logging `<name><slice>` as each runs. */
async function fold(turns: FoldTurns, key: string, name: string, slices: number, log: string[]): Promise<void> {
  for (let slice = 1; slice <= slices; slice++) {
    const release = await turns.take(key);
    log.push(`${name}${slice}`);
    // The slice's work, spanning an await: no other slice may start meanwhile.
    await Promise.resolve();
    log.push(`/${name}${slice}`);
    release();
  }
}

describe('FoldTurns', () => {
  it('runs one slice at a time, whatever the number of folds in flight', async () => {
    const turns = new FoldTurns();
    const log: string[] = [];
    await Promise.all([1, 2, 3, 4].map((n) => fold(turns, 'ws-a', `f${n}-`, 3, log)));
    expect(log).toHaveLength(24);
    for (let i = 0; i < log.length; i += 2) expect(log[i + 1]).toBe(`/${log[i]}`);
    expect(turns.queued).toBe(0);
  });

  it('lets the event loop run other work between two slices', async () => {
    const turns = new FoldTurns();
    const log: string[] = [];
    const slices = async (name: string) => {
      for (let slice = 0; slice < 5; slice++) {
        const release = await turns.take('ws-a');
        log.push(name);
        // Work queued during the slice (a request's callback) runs before the next slice starts.
        setImmediate(() => log.push(`after-${name}`));
        release();
      }
    };
    await Promise.all([slices('a'), slices('b'), slices('c')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toHaveLength(30);
    for (let i = 0; i < log.length; i += 2) expect(log[i + 1]).toBe(`after-${log[i]}`);
  });

  it('gives each workspace with a fold waiting a turn before one workspace gets its next', async () => {
    const turns = new FoldTurns();
    const log: string[] = [];
    const busy = [1, 2, 3].map((n) => fold(turns, 'ws-busy', `busy${n}-`, 2, log));
    const other = fold(turns, 'ws-other', 'other-', 2, log);
    await Promise.all([...busy, other]);
    const starts = log.filter((entry) => !entry.startsWith('/'));
    // The other workspace's first slice runs second, not after the busy workspace's six.
    expect(starts.indexOf('other-1')).toBe(1);
    expect(starts.indexOf('other-2')).toBeLessThan(starts.indexOf('busy3-2'));
    expect(starts).toHaveLength(8);
  });

  it('ignores a release called twice: the second does not free another fold’s turn', async () => {
    const turns = new FoldTurns();
    const log: string[] = [];
    const first = await turns.take('ws-a');
    const second = turns.take('ws-b').then((release) => {
      log.push('b');
      return release;
    });
    first();
    const third = turns.take('ws-c').then((release) => {
      log.push('c');
      return release;
    });
    await new Promise((resolve) => setImmediate(resolve));
    first(); // again: must not grant c while b holds its turn
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['b']);
    (await second)();
    (await third)();
    expect(log).toEqual(['b', 'c']);
  });
});
