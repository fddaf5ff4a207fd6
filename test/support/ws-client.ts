/** graphql-ws clients for the end-to-end tests: the real client library, against the real server. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Closed {
  code: number;
  reason: string;
}

/** The connection params that carry a token, as the Billing page sends them. */
export const bearer = (token: string): Record<string, unknown> => ({ authorization: `Bearer ${token}` });

/**
 * A client that connects at once, sends `params` at connection_init and never reconnects, so that
 * a close is final: `connected` resolves once the server has acknowledged the socket, `closed` with
 * the socket's first close.
 */
export function wsClient(
  baseUrl: string,
  params: Record<string, unknown> = {},
): { client: Client; connected: Promise<void>; closed: Promise<Closed> } {
  let onConnected: () => void = () => undefined;
  let onClosed: (closed: Closed) => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${baseUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: params,
    lazy: false,
    retryAttempts: 0,
    // With lazy off, a refused connection is reported here as well as to every operation.
    onNonLazyError: () => undefined,
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        onClosed({ code, reason: String(reason) });
      },
    },
  });
  return { client, connected, closed };
}
