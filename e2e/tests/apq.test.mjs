// Automatic persisted queries with Apollo Client 4's PersistedQueryLink (sha256 from node:crypto).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { ENDPOINT, unique } from './lib.mjs';
import { createShopClient } from './shop-client.mjs';

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** A fetch that records what was sent and what came back. */
function recordingFetch() {
  const exchanges = [];
  const fetchFn = async (url, init) => {
    const res = await fetch(url, init);
    const body = await res.clone().json();
    const sent = init.body ? JSON.parse(init.body) : Object.fromEntries(new URL(url).searchParams);
    exchanges.push({ method: init.method ?? 'GET', sent, status: res.status, body });
    return res;
  };
  return { fetchFn, exchanges };
}

/** Whether a recorded request carried the query text or only its hash. */
const carriesQuery = (x) => typeof x.sent.query === 'string' && x.sent.query.length > 0;
const notFound = (x) => x.body.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND';

for (const useGETForHashedQueries of [false, true]) {
  test(`APQ: hash first, query on PERSISTED_QUERY_NOT_FOUND, then hash only (GET for hashes: ${useGETForHashedQueries})`, async () => {
    const { fetchFn, exchanges } = recordingFetch();
    const shop = createShopClient({
      uri: ENDPOINT,
      fetch: fetchFn,
      links: [new PersistedQueryLink({ sha256, useGETForHashedQueries })],
    });
    // A query no one has sent before, so the server cannot know its hash.
    const alias = `n${unique()}`;
    const query = gql`query Names { ${alias}: products(first: 2) { names totalCount } }`;

    const first = await shop.client.query({ query });
    assert.ok(Array.isArray(first.data[alias].names));
    assert.equal(exchanges.length, 2, 'the hash, then the query');
    assert.ok(!carriesQuery(exchanges[0]) && notFound(exchanges[0]), 'first request: hash only, not found');
    assert.equal(exchanges[0].status, 200);
    assert.ok(carriesQuery(exchanges[1]) && !exchanges[1].body.errors, 'retry: with the query');
    assert.equal(exchanges[1].method, 'POST');

    const second = await shop.client.query({ query });
    assert.deepEqual(second.data, first.data);
    assert.equal(exchanges.length, 3, 'one request the second time');
    assert.ok(!carriesQuery(exchanges[2]) && !exchanges[2].body.errors, 'second time: the hash alone hits');
    assert.equal(exchanges[2].method, useGETForHashedQueries ? 'GET' : 'POST');
    const ext = typeof exchanges[2].sent.extensions === 'string' ? JSON.parse(exchanges[2].sent.extensions) : exchanges[2].sent.extensions;
    assert.equal(ext.persistedQuery.version, 1);
    assert.match(ext.persistedQuery.sha256Hash, /^[0-9a-f]{64}$/);
  });
}

test('APQ: a hash that does not match its query is refused', async () => {
  const res = await fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ other }') } } }),
  });
  const body = await res.json();
  assert.match(body.errors[0].message, /hash does not match/);
});

test('APQ: the server cache is bounded (100 queries, least recently used goes first)', async () => {
  const register = async (query) => {
    const res = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } }),
    });
    return res.json();
  };
  const hashOnly = async (query) => {
    const res = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } }),
    });
    return res.json();
  };
  const tag = unique();
  const oldest = `query Oldest_${tag} { __typename }`;
  assert.equal((await register(oldest)).errors, undefined);
  assert.equal((await hashOnly(oldest)).errors, undefined, 'known right after registering');
  for (let i = 0; i < 100; i++) {
    const r = await register(`query Filler_${tag}_${i} { __typename }`);
    assert.equal(r.errors, undefined);
  }
  const evicted = await hashOnly(oldest);
  assert.equal(evicted.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_NOT_FOUND', 'pushed out by 100 newer queries');
});
