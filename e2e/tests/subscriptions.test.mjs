// Subscriptions with Apollo Client 4 (GraphQLWsLink + split link) against the real server: events
// for another client's creates, updates and deletes; the socket closed with 4403 TOKEN_EXPIRED when
// the access token expires (the shared server's tokens live 2 s), then refresh, reconnect and events
// again; logout closes it with 4403 TOKEN_REVOKED.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { gql } from '@apollo/client';
import { ENDPOINT, adminLogin, mustPost, post, sleep, startServer, unique } from './lib.mjs';
import { createLiveClient } from './live-client.mjs';

const PRODUCT_CHANGED = gql`
  subscription ProductChanged($cat: ID) {
    productChanged(categoryId: $cat) { kind name product { name price category { name } } }
  }
`;

async function login(endpoint, email) {
  const password = `password-${email}`;
  await post('mutation($in: RegisterInput!) { register(input: $in) { id } }',
    { in: { email, username: 'live', password } }, { endpoint });
  const { login: l } = await mustPost('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }',
    { e: email, p: password }, { endpoint });
  return { access: l.accessToken, refresh: l.refreshToken };
}

/** An admin acting through plain HTTP, logging in again for each write (tokens may live 2 s). */
function writer(endpoint) {
  const as = async (query, variables) => mustPost(query, variables, { endpoint, token: (await adminLogin(endpoint)).accessToken });
  return {
    category: async (name) => (await as('mutation($n: String!) { createCategory(name: $n) { id } }', { n: name })).createCategory.id,
    upsert: (name, cat, price) => as('mutation($n: String!, $in: ProductInput!) { upsertProduct(name: $n, input: $in) { id } }',
      { n: name, in: { description: 'live', price, quantity: 1, categoryId: cat } }),
    create: (name, cat, price) => as('mutation($n: String!, $in: ProductInput!) { createProduct(name: $n, input: $in) { id } }',
      { n: name, in: { description: 'live', price, quantity: 1, categoryId: cat } }),
    remove: (name) => as('mutation($n: String!) { deleteProduct(name: $n) }', { n: name }),
  };
}

/** Subscribes and collects events; waitFor resolves with the first event matching pred. */
function collect(client, variables) {
  const seen = [];
  const waiters = [];
  let failure = null;
  const sub = client.subscribe({ query: PRODUCT_CHANGED, variables }).subscribe({
    next: ({ data, error }) => {
      if (error) { failure = error; return; }
      seen.push(data.productChanged);
      for (const w of [...waiters]) if (w.pred(data.productChanged)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(data.productChanged); }
    },
    error: (err) => { failure = err; for (const w of waiters) w.reject(err); },
  });
  return {
    seen,
    get failure() { return failure; },
    unsubscribe: () => sub.unsubscribe(),
    waitFor: (pred, ms = 15_000) => new Promise((resolve, reject) => {
      const hit = seen.find(pred);
      if (hit) return resolve(hit);
      const w = { pred, resolve, reject };
      waiters.push(w);
      setTimeout(() => reject(new Error(`no matching event within ${ms} ms; seen ${JSON.stringify(seen)}`)), ms);
    }),
  };
}

/** Upserts a marker product until an event for it arrives: then the subscription is in place. */
async function warmUp(w, sub, cat) {
  const marker = `marker-${unique()}`;
  for (let i = 0; ; i++) {
    await w.upsert(marker, cat, i);
    try {
      return await sub.waitFor((e) => e.name === marker, 500);
    } catch (err) {
      if (i > 40) throw err;
    }
  }
}

let longLived;
after(async () => { await longLived?.stop(); });

test('subscriptions: events for another client\'s create, update and delete; logout closes with TOKEN_REVOKED', async () => {
  longLived = await startServer({ ACCESS_TOKEN_TTL: '15m' });
  const endpoint = `${longLived.url}/graphql`;
  const w = writer(endpoint);
  const cat = await w.category(`live-${unique()}`);
  const tokens = await login(endpoint, `live-${unique()}@example.com`);
  const live = createLiveClient({ uri: endpoint, tokens });
  const sub = collect(live.client, { cat });
  await warmUp(w, sub, cat);

  const name = `live-${unique()}`;
  await w.create(name, cat, 5);
  const created = await sub.waitFor((e) => e.name === name && e.kind === 'CREATED');
  assert.equal(created.product.price, 5);
  await w.upsert(name, cat, 7);
  const updated = await sub.waitFor((e) => e.name === name && e.kind === 'UPDATED');
  assert.equal(updated.product.price, 7);
  await w.remove(name);
  const deleted = await sub.waitFor((e) => e.name === name && e.kind === 'DELETED');
  assert.equal(deleted.product, null);
  const order = sub.seen.filter((e) => e.name === name).map((e) => e.kind);
  assert.deepEqual(order, ['CREATED', 'UPDATED', 'DELETED']);

  // Logout through HTTP: the socket is closed with 4403 TOKEN_REVOKED and not retried.
  await mustPost('mutation { logout }', {}, { endpoint, token: tokens.access });
  for (let i = 0; i < 200 && !live.events.closed.length; i++) await sleep(25);
  assert.deepEqual(live.events.closed.at(-1), { code: 4403, reason: 'TOKEN_REVOKED' });
  for (let i = 0; i < 200 && !sub.failure; i++) await sleep(25);
  assert.ok(sub.failure, 'the subscription ends with an error after TOKEN_REVOKED');
  assert.equal(live.events.connected, 1, 'no reconnection after TOKEN_REVOKED');
  await live.wsClient.dispose();
});

test('subscriptions: expiry closes with TOKEN_EXPIRED, the client refreshes, reconnects and gets events again', async () => {
  const w = writer(ENDPOINT);
  const cat = await w.category(`expiry-${unique()}`);
  const tokens = await login(ENDPOINT, `expiry-${unique()}@example.com`);
  const live = createLiveClient({ uri: ENDPOINT, tokens });
  const sub = collect(live.client, { cat });
  await warmUp(w, sub, cat);
  const firstToken = tokens.access;

  // The shared server's access tokens live 2 s (e2e/run.sh).
  for (let i = 0; i < 400 && live.events.connected < 2; i++) await sleep(25);
  assert.deepEqual(live.events.closed[0], { code: 4403, reason: 'TOKEN_EXPIRED' });
  assert.ok(live.events.refreshes >= 1, 'refreshed after TOKEN_EXPIRED');
  assert.ok(live.events.connected >= 2, 'reconnected');
  assert.notEqual(tokens.access, firstToken);

  const name = `after-${unique()}`;
  await warmUp(w, sub, cat);
  await w.create(name, cat, 1);
  await sub.waitFor((e) => e.name === name && e.kind === 'CREATED');
  assert.equal(sub.failure, null);
  await live.wsClient.dispose();
});
