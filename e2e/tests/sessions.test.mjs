// Two tabs of one web app (two Apollo Client 4 instances) share one session: its tokens live in
// shared storage, as in localStorage. Their access token expires for both at once, and both refresh
// with the same refresh token at the same moment. Thanks to the reuse grace (REFRESH_REUSE_INTERVAL)
// both succeed with the same new refresh token, and both go on working; the session is not revoked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { Observable } from 'rxjs';
import { ENDPOINT, mustPost, sleep, unique } from './lib.mjs';

const REFRESH = `mutation Refresh($token: String!) {
  refreshToken(token: $token) { accessToken refreshToken accessTokenExpiresAt }
}`;
const ME = gql`query Me { me { id email } }`;
const SESSIONS = gql`query Sessions { mySessions { id current } }`;

const isExpired = (result) =>
  result.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED' && e.extensions?.reason === 'TOKEN_EXPIRED');

/**
 * A tab: an Apollo Client that reads the tokens from the shared storage and, on TOKEN_EXPIRED,
 * refreshes with the stored refresh token on its own (tabs do not coordinate) and retries once.
 * gate, when set, is awaited before the refresh is sent, so that the test can release both tabs'
 * refreshes together.
 */
function tab(storage, name) {
  const stats = { refreshes: 0, refreshTokensSent: [], refreshTokensGot: [] };
  let gate = null;

  async function refresh() {
    const token = storage.refresh;
    await gate;
    stats.refreshTokensSent.push(token);
    const res = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: REFRESH, variables: { token } }),
    });
    const { data, errors } = await res.json();
    if (errors) throw new Error(`${name}: refresh failed: ${JSON.stringify(errors)}`);
    stats.refreshes++;
    stats.refreshTokensGot.push(data.refreshToken.refreshToken);
    storage.access = data.refreshToken.accessToken;
    storage.refresh = data.refreshToken.refreshToken;
  }

  const auth = new ApolloLink((operation, forward) => {
    operation.setContext(({ headers = {} }) => ({
      headers: { ...headers, authorization: `Bearer ${storage.access}` },
    }));
    return forward(operation);
  });

  const renew = new ApolloLink((operation, forward) => new Observable((observer) => {
    let pendingRetry = false;
    let sub = forward(operation).subscribe({
      next(result) {
        if (!isExpired(result) || operation.getContext().retried) return observer.next(result);
        pendingRetry = true;
        refresh().then(() => {
          operation.setContext({ retried: true });
          sub = forward(operation).subscribe(observer);
        }, (err) => observer.error(err));
      },
      error: (err) => observer.error(err),
      complete() { if (!pendingRetry) observer.complete(); }, // else the retry completes it
    });
    return () => sub?.unsubscribe();
  }));

  const client = new ApolloClient({
    link: ApolloLink.from([renew, auth, new HttpLink({ uri: ENDPOINT })]),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: 'network-only' } },
  });
  return { client, stats, hold(p) { gate = p; } };
}

test('two tabs refresh with one refresh token at once, and both go on working', async () => {
  const email = `tabs-${unique()}@example.com`;
  const password = 'two-tabs-password';
  await mustPost('mutation($in: RegisterInput!) { register(input: $in) { id } }',
    { in: { email, username: 'tabs', password } });
  const { login } = await mustPost(
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken accessTokenExpiresAt } }',
    { e: email, p: password });
  const storage = { access: login.accessToken, refresh: login.refreshToken };
  const first = login.refreshToken;

  const a = tab(storage, 'tab A');
  const b = tab(storage, 'tab B');
  for (const t of [a, b]) {
    const { data } = await t.client.query({ query: ME });
    assert.equal(data.me.email, email);
  }

  // Let the shared access token expire (run.sh sets ACCESS_TOKEN_TTL=2s), then have both tabs
  // query: both see TOKEN_EXPIRED and refresh with the same refresh token, released together.
  await sleep(Math.max(0, Date.parse(login.accessTokenExpiresAt) - Date.now()) + 200);
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  a.hold(gate);
  b.hold(gate);
  const both = Promise.all([a.client.query({ query: ME }), b.client.query({ query: ME })]);
  await sleep(300); // both have seen TOKEN_EXPIRED and wait at the gate
  release();
  const [ra, rb] = await both;
  assert.equal(ra.data.me.email, email);
  assert.equal(rb.data.me.email, email);
  assert.deepEqual(a.stats.refreshTokensSent, [first]);
  assert.deepEqual(b.stats.refreshTokensSent, [first]);
  assert.equal(a.stats.refreshTokensGot[0], b.stats.refreshTokensGot[0], 'both tabs got the same successor');
  assert.notEqual(a.stats.refreshTokensGot[0], first);

  // Both go on working, in one live session, and refresh again later with the shared successor.
  for (const t of [a, b]) {
    const { data } = await t.client.query({ query: SESSIONS });
    assert.equal(data.mySessions.length, 1);
    assert.equal(data.mySessions[0].current, true);
  }
  a.hold(null);
  b.hold(null);
  await sleep(2200); // the refreshed access token expires too
  const { data } = await a.client.query({ query: ME });
  assert.equal(data.me.email, email);
  assert.equal(a.stats.refreshes, 2);
  const again = await b.client.query({ query: ME }); // uses the token tab A stored, no refresh
  assert.equal(again.data.me.email, email);
});
