/**
 * Shutting the HTTP server down without resetting anyone. Closing the listener at SIGTERM (as
 * Apollo's drain plugin does) refuses new connections, and ending idle kept-alive connections
 * resets a request that was already on its way. Instead, while the requests in flight finish, the
 * server keeps listening and answers every new request, on a new connection or a kept-alive one,
 * 503 with Retry-After and `Connection: close`, before it runs anything: an operation either runs
 * and is answered, or never runs. It does so for a short linger even when nothing is in flight, so
 * that a request already on its way is answered rather than reset. Then it closes the listener and
 * every connection.
 */
import type { Server, ServerResponse } from 'node:http';

/** What a client refused during the drain is told to wait: long enough for a balancer to move on. */
const RETRY_AFTER_SECONDS = 2;

const SHUTTING_DOWN = JSON.stringify({
  errors: [
    {
      message: 'The server is shutting down; retry on another instance.',
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    },
  ],
});

export class HttpDrain {
  private inFlight = 0;
  private draining = false;
  private idle: (() => void) | undefined;
  private readonly responses = new Set<ServerResponse>();

  constructor(
    private readonly server: Server,
    /** How long the drain waits for requests in flight before closing their connections. */
    private readonly gracePeriodMs: number,
    /**
     * How long it keeps answering new requests 503 before closing, even with none in flight: a
     * request already on its way on a kept-alive connection (a balancer that has not yet seen the
     * replica leave) is answered, not reset. Within the grace period.
     */
    private readonly lingerMs = 0,
  ) {}

  /**
   * Call first for every request: during the drain it answers the request 503 and returns true;
   * otherwise it counts the request until its response is done and returns false.
   */
  refused(res: ServerResponse): boolean {
    if (this.draining) {
      res.statusCode = 503;
      res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
      res.setHeader('connection', 'close');
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(SHUTTING_DOWN);
      return true;
    }
    this.inFlight += 1;
    this.responses.add(res);
    res.once('close', () => {
      this.responses.delete(res);
      this.inFlight -= 1;
      if (this.inFlight === 0) this.idle?.();
    });
    return false;
  }

  /** From now on every new request is answered 503; the ones in flight close their connection after answering. */
  begin(): void {
    this.draining = true;
    for (const res of this.responses) if (!res.headersSent) res.setHeader('connection', 'close');
  }

  /**
   * Begins the drain, waits for the requests in flight (at most the grace period), then stops
   * listening and closes every connection still open.
   */
  async drain(): Promise<void> {
    this.begin();
    const began = Date.now();
    const deadline = began + this.gracePeriodMs;
    await this.within(deadline, (done) => {
      if (this.inFlight === 0) return done();
      this.idle = done;
    });
    const lingerUntil = Math.min(deadline, began + this.lingerMs);
    if (Date.now() < lingerUntil) await this.within(lingerUntil, () => undefined);
    await this.within(deadline, (done) => {
      this.server.close(() => done());
      this.server.closeAllConnections();
    });
  }

  /** Waits for `start` to call its callback, or until the deadline. */
  private within(deadline: number, start: (done: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      start(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
