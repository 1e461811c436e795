// An Apollo Client for the shop API that keeps the tokens and recovers from an expired access
// token by itself: docs/CLIENTS.md shows the same code. The tests use it as a frontend would.
import { ApolloClient, InMemoryCache, HttpLink, from, gql, Observable } from '@apollo/client/core/index.js';
import { onError } from '@apollo/client/link/error/index.js';
import { setContext } from '@apollo/client/link/context/index.js';

const LOGIN = gql`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken refreshToken accessTokenExpiresAt user { id email } }
  }
`;
const REFRESH = `mutation Refresh($token: String!) {
  refreshToken(token: $token) { accessToken refreshToken accessTokenExpiresAt }
}`;
const LOGOUT = gql`mutation Logout { logout }`;

/**
 * createShopClient returns { client, login, logout, tokens, stats }.
 * links go between the auth link and the HTTP link (e.g. the persisted-queries link).
 */
export function createShopClient({ uri, fetch = globalThis.fetch, links = [] }) {
  const tokens = { access: null, refresh: null, expiresAt: null };
  const stats = { refreshes: 0 };
  let refreshing = null;

  // A refresh token works exactly once (presenting it again revokes the session), so concurrent
  // failures must share one refresh call.
  function refresh() {
    refreshing ??= (async () => {
      const res = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: REFRESH, variables: { token: tokens.refresh } }),
      });
      const { data, errors } = await res.json();
      if (errors) throw Object.assign(new Error(errors[0].message), { graphQLErrors: errors });
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
  const authLink = setContext((_, { headers }) => {
    if (!tokens.access) return { headers, sentToken: null };
    return { headers: { ...headers, authorization: `Bearer ${tokens.access}` }, sentToken: tokens.access };
  });

  // On UNAUTHENTICATED / TOKEN_EXPIRED: refresh (unless another operation already did since this
  // one was sent) and retry once, transparently for the caller.
  const refreshLink = onError(({ graphQLErrors, operation, forward }) => {
    const expired = graphQLErrors?.some(
      (e) => e.extensions?.code === 'UNAUTHENTICATED' && e.extensions?.reason === 'TOKEN_EXPIRED',
    );
    const ctx = operation.getContext();
    if (!expired || !tokens.refresh || ctx.retried) return undefined;
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
    link: from([refreshLink, authLink, ...links, new HttpLink({ uri, fetch })]),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: 'network-only' } },
  });

  async function login(email, password) {
    const { data } = await client.mutate({ mutation: LOGIN, variables: { email, password } });
    Object.assign(tokens, {
      access: data.login.accessToken,
      refresh: data.login.refreshToken,
      expiresAt: data.login.accessTokenExpiresAt,
    });
    return data.login;
  }

  async function logout() {
    await client.mutate({ mutation: LOGOUT });
    Object.assign(tokens, { access: null, refresh: null, expiresAt: null });
    await client.clearStore();
  }

  return { client, login, logout, tokens, stats };
}
