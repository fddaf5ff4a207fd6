/**
 * Turns of the thread that answers everyone, for the long folds queries make (creditBalanceAt folds
 * a workspace's whole stream). A fold works in slices and takes a turn for each: one slice runs at a
 * time in the whole process, and each next turn waits for the event loop's next pass, so requests
 * that arrived meanwhile are read and answered between two slices whatever the number of folds in
 * flight. Without turns, each fold yielding on its own let every waiting fold run a slice in the same
 * pass: sixty-four of them held everyone else's requests for seconds.
 *
 * Workspaces take turns: a workspace with many folds waiting gets one slice, then every other
 * workspace with a fold waiting gets one, so one caller's burst slows its own folds, not another's.
 */
export type ReleaseTurn = () => void;

export class FoldTurns {
  /** Folds waiting for a turn, by key; a Map keeps its keys in the order they were (re)inserted. */
  private readonly waiting = new Map<string, (() => void)[]>();
  private held = false;
  private granting = false;

  /** Resolves when it is `key`'s turn; the slice must call the release it gets, once, when done. */
  take(key: string): Promise<ReleaseTurn> {
    return new Promise((resolve) => {
      const grant = (): void => resolve(this.releaser());
      const queue = this.waiting.get(key);
      if (queue) queue.push(grant);
      else this.waiting.set(key, [grant]);
      this.grantSoon();
    });
  }

  /** How many folds wait for a turn (for tests and metrics). */
  get queued(): number {
    let count = 0;
    for (const queue of this.waiting.values()) count += queue.length;
    return count;
  }

  private releaser(): ReleaseTurn {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held = false;
      this.grantSoon();
    };
  }

  /** Grants the next turn in the event loop's next pass (after its poll for I/O), if none is held. */
  private grantSoon(): void {
    if (this.held || this.granting || this.waiting.size === 0) return;
    this.granting = true;
    setImmediate(() => {
      this.granting = false;
      if (this.held) return;
      const next = this.waiting.entries().next();
      if (next.done) return;
      const [key, queue] = next.value;
      const grant = queue.shift() as () => void;
      // To the back of the line: every other workspace waiting goes before this one's next fold.
      this.waiting.delete(key);
      if (queue.length > 0) this.waiting.set(key, queue);
      this.held = true;
      grant();
    });
  }
}
