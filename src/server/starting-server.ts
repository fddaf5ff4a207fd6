/**
 * What answers on the service's address while it starts. Until the read models have caught up
 * with the log (as long as the log is long when they are rebuilt: a projection's new version, a
 * lost read-models.sqlite), the service has nothing it could answer truthfully; but a supervisor's
 * liveness probe that finds nothing listening restarts the process, and the rebuild starts over.
 * So a minimal server answers meanwhile: GET /healthz 200 (`starting`: the process is up),
 * /readyz 503 (`starting`), anything else 503 with Retry-After and, for GraphQL clients, an error
 * coded STARTING. The service then takes this very server over (http-server.ts): its own answers
 * replace these from one request to the next, and the port is never closed in between, so a probe
 * or a client never meets a refused connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface StartingServer {
  /** The listening server, for the service to take over. */
  readonly server: Server;
  /** Stops answering as the starting service: whoever listens for requests next answers them. */
  stopAnswering(): void;
  close(): Promise<void>;
}

/**
 * The service's HTTP server, with Node's deadlines for receiving a request: its headers within 10 s
 * (or the whole deadline, if shorter) and all of it, a 1 MiB body included, within
 * `requestTimeoutMs`, checked every second. Node's defaults (60 s and 300 s, checked every 30 s)
 * let a client that sends most of a body and stalls hold its memory for five minutes. Once a request
 * has arrived, answering it takes as long as it takes (a mutation waiting for Stripe).
 */
export const newHttpServer = (requestTimeoutMs: number): Server =>
  createServer({
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(10_000, requestTimeoutMs),
    connectionsCheckingInterval: 1_000,
  });

const STARTING_MESSAGE = 'The service is starting: its read models are catching up with the log. Try again shortly.';

export async function listenWhileStarting(
  host: string,
  port: number,
  requestTimeoutMs: number,
): Promise<StartingServer> {
  const starting = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return answer(res, 200, { status: 'starting' });
    if (req.method === 'GET' && path === '/readyz') return answer(res, 503, { status: 'starting' });
    res.setHeader('retry-after', '5');
    answer(res, 503, { errors: [{ message: STARTING_MESSAGE, extensions: { code: 'STARTING', retryable: true } }] });
  };
  const server = newHttpServer(requestTimeoutMs);
  server.on('request', starting);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    stopAnswering: () => void server.off('request', starting),
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  // Each answer closes its connection: nothing is left open to this server when it closes.
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(JSON.stringify(body));
}
