/**
 * The GraphQL explorer at GET /graphql (development only): GraphiQL from the `graphiql` package,
 * bundled with React and Monaco's workers by build.mjs, so it works offline and sends nothing
 * anywhere but this server. The server embeds a short-lived development token in the page
 * (#explorer-config); it is the Authorization header of every request, and of the WebSocket that
 * carries subscriptions, until it is replaced in the Headers tab.
 */
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';

/** Monaco runs its language services in workers: the ones build.mjs bundled next to this file. */
const WORKERS = { json: 'json.worker.js', graphql: 'graphql.worker.js' };
globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    return new Worker(new URL(WORKERS[label] ?? 'editor.worker.js', import.meta.url));
  },
};

const config = JSON.parse(document.getElementById('explorer-config').textContent);
const url = new URL('/graphql', window.location.href);
const subscriptionUrl = `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}/graphql`;

/**
 * GraphiQL passes the Headers tab with every operation. Queries and mutations send them as they
 * are; subscriptions send the Authorization header as graphql-ws connection params, on one
 * connection per distinct token.
 */
const fetchers = new Map();
function fetcher(params, options) {
  const headers = options?.headers ?? {};
  const authorization = headers.Authorization ?? headers.authorization ?? '';
  if (!fetchers.has(authorization)) {
    fetchers.set(
      authorization,
      createGraphiQLFetcher({ url: url.href, subscriptionUrl, wsConnectionParams: { authorization } }),
    );
  }
  return fetchers.get(authorization)(params, options);
}

const headers = JSON.stringify({ Authorization: `Bearer ${config.token}` }, null, 2);
const defaultQuery = `# Signed in as ${config.role} of the workspace "${config.workspaceId}"
# until ${config.expiresAt} (see Headers).
# Give it credits and history: open /billing, "Open the demo".
# Another token: npm run --silent token --
#   --workspace acme --role OWNER --admin
# and paste it into Headers as "Bearer <token>".

query Balance {
  workspaceCredits(workspaceId: "${config.workspaceId}") {
    id
    available
    included { granted consumed remaining }
    purchased { remaining }
    lowBalance
  }
  creditRates { action creditsPerUnit unit }
}
`;

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    initialHeaders: headers,
    defaultHeaders: headers,
    shouldPersistHeaders: false,
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: 'headers',
  }),
);
