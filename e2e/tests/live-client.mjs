// Subscriptions with Apollo Client 4 over graphql-ws, recovering from the server closing the socket
// when its access token expires: docs/CLIENTS.md shows the same code. The server closes with 4403 and
// a reason: TOKEN_EXPIRED → refresh, then reconnect at once (graphql-ws resubscribes); TOKEN_REVOKED,
// TOKEN_INVALID or TOKEN_MISSING → log in again (no retry).
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, split } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

// Apollo's link checks `WebSocket.CLOSED`; Node before 22 has no global WebSocket.
globalThis.WebSocket ??= WebSocket;

const REFRESH = `mutation Refresh($token: String!) { refreshToken(token: $token) { accessToken refreshToken } }`;

/**
 * createLiveClient returns { client, wsClient, tokens, events } for an API at uri (http…/graphql).
 * tokens holds { access, refresh } (from login); events records closes, connections and refreshes.
 */
export function createLiveClient({ uri, tokens, headers = {} }) {
  const events = { closed: [], connected: 0, refreshes: 0 };
  let refreshing = null;
  // A refresh token works once: concurrent callers share one refresh.
  const refresh = () => (refreshing ??= fetch(uri, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: REFRESH, variables: { token: tokens.refresh } }),
  }).then((r) => r.json()).then(({ data, errors }) => {
    if (errors) throw new Error(errors[0].message); // TOKEN_REVOKED: log in again
    tokens.access = data.refreshToken.accessToken;
    tokens.refresh = data.refreshToken.refreshToken;
    events.refreshes++;
  }).finally(() => { refreshing = null; }));

  let lastClose = null;
  const fatal = (e) => e?.code === 4403 && e.reason !== 'TOKEN_EXPIRED';
  const wsClient = createClient({
    url: uri.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket, // in a browser: leave out
    // Called for every (re)connection: refresh first if the last socket ended with the token.
    connectionParams: async () => {
      if (lastClose?.code === 4403 && lastClose.reason === 'TOKEN_EXPIRED') await refresh();
      return { Authorization: `Bearer ${tokens.access}` };
    },
    retryAttempts: Infinity,
    shouldRetry: (e) => !fatal(e),
    // Straight back after an expiry (the refresh happens in connectionParams); back off otherwise.
    retryWait: async (retries) => {
      if (lastClose?.reason === 'TOKEN_EXPIRED') return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** retries)));
    },
    on: {
      closed: (e) => { lastClose = e; events.closed.push({ code: e.code, reason: e.reason }); },
      connected: () => { events.connected++; },
    },
  });

  const authLink = new ApolloLink((operation, forward) => {
    operation.setContext(({ headers: h = {} }) => ({ headers: { ...h, ...headers, authorization: `Bearer ${tokens.access}` } }));
    return forward(operation);
  });
  const link = split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === 'OperationDefinition' && def.operation === 'subscription';
    },
    new GraphQLWsLink(wsClient),
    ApolloLink.from([authLink, new HttpLink({ uri })]),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  return { client, wsClient, tokens, events };
}
