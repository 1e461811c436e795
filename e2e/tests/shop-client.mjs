// An Apollo Client 4 for the shop API that keeps the tokens, recovers from an expired access token
// by itself (one shared refresh for concurrent failures), pages products with
// relayStylePagination and resets its cache on login and logout. docs/CLIENTS.md shows the same
// code; the tests use it as a frontend would. It runs unchanged in Node and, bundled, in a browser.
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { ErrorLink } from '@apollo/client/link/error';
import { SetContextLink } from '@apollo/client/link/context';
import { relayStylePagination } from '@apollo/client/utilities';
import { Observable } from 'rxjs';

const LOGIN = gql`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken refreshToken accessTokenExpiresAt user { id email } }
  }
`;
const REFRESH = `mutation Refresh($token: String!) {
  refreshToken(token: $token) { accessToken refreshToken accessTokenExpiresAt }
}`;
const LOGOUT = gql`mutation Logout { logout }`;

/** Whether an Apollo Client 4 error is the server's TOKEN_EXPIRED. */
const tokenExpired = (error) => CombinedGraphQLErrors.is(error) && error.errors.some(
  (e) => e.extensions?.code === 'UNAUTHENTICATED' && e.extensions?.reason === 'TOKEN_EXPIRED',
);

/**
 * createShopClient returns { client, login, logout, tokens, stats }.
 * links go between the auth link and the HTTP link (e.g. the persisted-queries link); headers are
 * sent with every request (e.g. traceparent); clientAwareness is Apollo's { name, version };
 * defaultOptions are Apollo's (queries default to network-only here, as the tests want fresh answers).
 */
export function createShopClient({
  uri, fetch = globalThis.fetch, links = [], headers = {}, clientAwareness,
  defaultOptions = { query: { fetchPolicy: 'network-only' } },
}) {
  const tokens = { access: null, refresh: null, expiresAt: null };
  const stats = { refreshes: 0 };
  let refreshing = null;

  // A refresh token works exactly once (presenting it again revokes the session), so concurrent
  // failures must share one refresh call. It goes straight to fetch, not through the links.
  function refresh() {
    refreshing ??= (async () => {
      const res = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: REFRESH, variables: { token: tokens.refresh } }),
      });
      const { data, errors } = await res.json();
      if (errors) throw new CombinedGraphQLErrors({ data, errors }); // e.g. TOKEN_REVOKED: log in again
      Object.assign(tokens, {
        access: data.refreshToken.accessToken,
        refresh: data.refreshToken.refreshToken,
        expiresAt: data.refreshToken.accessTokenExpiresAt,
      });
      stats.refreshes++;
    })().finally(() => { refreshing = null; });
    return refreshing;
  }

  // Sends the current access token, and remembers which one each operation used.
  const authLink = new SetContextLink((prev) => {
    if (!tokens.access) return { sentToken: null };
    return { headers: { ...prev.headers, authorization: `Bearer ${tokens.access}` }, sentToken: tokens.access };
  });

  // On UNAUTHENTICATED / TOKEN_EXPIRED: refresh (unless another operation already did since this
  // one was sent) and retry once, transparently for the caller.
  const refreshLink = new ErrorLink(({ error, operation, forward }) => {
    const ctx = operation.getContext();
    if (!tokenExpired(error) || !tokens.refresh || ctx.retried) return undefined;
    return new Observable((observer) => {
      const renewed = ctx.sentToken !== tokens.access ? Promise.resolve() : refresh();
      let sub;
      renewed.then(
        () => {
          operation.setContext({ retried: true });
          sub = forward(operation).subscribe(observer);
        },
        (err) => observer.error(err),
      );
      return () => sub?.unsubscribe();
    });
  });

  const client = new ApolloClient({
    link: ApolloLink.from([refreshLink, authLink, ...links, new HttpLink({ uri, fetch, headers })]),
    cache: new InMemoryCache({
      typePolicies: {
        // One list per category, merged page by page from edges and pageInfo (first/after are
        // paging arguments, not part of the key).
        Query: { fields: { products: relayStylePagination(['categoryId']) } },
      },
    }),
    clientAwareness,
    defaultOptions,
  });

  // What the catalog holds depends on who asks (names only, or full details), so cached data
  // must not outlive a login or a logout: resetStore drops it and refetches what is on screen.
  async function login(email, password) {
    const { data } = await client.mutate({ mutation: LOGIN, variables: { email, password } });
    Object.assign(tokens, {
      access: data.login.accessToken,
      refresh: data.login.refreshToken,
      expiresAt: data.login.accessTokenExpiresAt,
    });
    await client.resetStore();
    return data.login;
  }

  async function logout() {
    try {
      await client.mutate({ mutation: LOGOUT });
    } finally {
      Object.assign(tokens, { access: null, refresh: null, expiresAt: null });
      await client.resetStore();
    }
  }

  return { client, login, logout, tokens, stats };
}
