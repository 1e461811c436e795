// Apollo Client 4 against the real server, as a frontend uses it: register, the anonymous
// catalog, login (cache reset), paging 3 pages with relayStylePagination, automatic recovery
// from an expired access token through one refreshToken call shared by concurrent failures,
// logout (cache reset), and the old tokens failing afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CombinedGraphQLErrors, gql } from '@apollo/client';
import { filter, firstValueFrom } from 'rxjs';
import { ENDPOINT, post, seedCatalog, sleep, unique } from './lib.mjs';
import { createShopClient } from './shop-client.mjs';

const REGISTER = gql`
  mutation Register($input: RegisterInput!) { register(input: $input) { id email isAdmin } }
`;
const ME = gql`query Me { me { id email username } }`;
const CATALOG = gql`
  query Catalog($category: ID) {
    products(first: 10, categoryId: $category) {
      detailed names message totalCount
      items { id name price quantity category { id name } }
    }
  }
`;
const PAGE = gql`
  query Page($category: ID, $after: String) {
    products(first: 3, after: $after, categoryId: $category) {
      detailed totalCount
      edges { cursor node { id name price } }
      pageInfo { startCursor endCursor hasNextPage hasPreviousPage }
    }
  }
`;
const CATEGORIES = gql`query Categories { categories { id name } }`;
const CREATE_CATEGORY = gql`mutation CreateCategory($name: String!) { createCategory(name: $name) { id } }`;

/** The extensions of the first GraphQL error an Apollo Client 4 call failed with. */
function firstError(err) {
  assert.ok(CombinedGraphQLErrors.is(err), `expected CombinedGraphQLErrors, got ${err}`);
  return err.errors[0].extensions;
}

/** A fetch that counts the requests of each operation name. */
function countingFetch() {
  const sent = {};
  const fetchFn = async (url, init) => {
    const name = init.body ? JSON.parse(init.body).operationName : new URL(url).searchParams.get('operationName');
    sent[name] = (sent[name] ?? 0) + 1;
    return fetch(url, init);
  };
  return { fetchFn, sent };
}

test('Apollo Client 4: login, relayStylePagination, one refresh on expiry, logout, cache resets', { timeout: 60000 }, async () => {
  const { category, names } = await seedCatalog(7);
  const anonCats = await createShopClient({ uri: ENDPOINT }).client.query({ query: CATEGORIES }).catch((e) => e);
  assert.equal(firstError(anonCats).reason, 'TOKEN_MISSING', 'categories needs a token');

  const { fetchFn, sent } = countingFetch();
  const shop = createShopClient({ uri: ENDPOINT, fetch: fetchFn });
  const email = `apollo-${unique()}@example.com`;
  const password = 'apollo-password-1';
  const { data: reg } = await shop.client.mutate({
    mutation: REGISTER,
    variables: { input: { email, username: 'apollo', password } },
  });
  assert.equal(reg.register.email, email);
  assert.equal(reg.register.isAdmin, false);

  // Anonymous: names only, with the message; the answer is now in the cache.
  const { data: anon } = await shop.client.query({ query: CATALOG, fetchPolicy: 'cache-first' });
  assert.equal(anon.products.detailed, false);
  assert.equal(anon.products.items, null);
  assert.equal(anon.products.message, 'Detailed info only after you login.');
  const again = await shop.client.query({ query: CATALOG, fetchPolicy: 'cache-first' });
  assert.equal(sent.Catalog, 1, 'the second anonymous read came from the cache');
  assert.equal(again.data.products.detailed, false);

  const login = await shop.login(email, password);
  assert.equal(login.user.email, email);
  const first = { ...shop.tokens };

  // Login reset the cache: the same cache-first read now goes to the server and gets details.
  const { data: afterLogin } = await shop.client.query({ query: CATALOG, fetchPolicy: 'cache-first' });
  assert.equal(sent.Catalog, 2, 'login dropped the anonymous answer');
  assert.equal(afterLogin.products.detailed, true);
  assert.ok(afterLogin.products.items.length > 0);

  // Paging with relayStylePagination: 7 products of one category, 3 per page, 3 pages merged by
  // the field policy into one list of edges.
  const { data: cats } = await shop.client.query({ query: CATEGORIES });
  const categoryId = cats.categories.find((c) => c.name === category).id;
  const watched = shop.client.watchQuery({ query: PAGE, variables: { category: categoryId } });
  // Subscribed as a component would be, for the whole paging.
  const sub = watched.subscribe({ error: () => {} });
  try {
    const { data: page1 } = await firstValueFrom(watched.pipe(filter((r) => r.dataState === 'complete')));
    assert.equal(page1.products.edges.length, 3);
    assert.equal(page1.products.pageInfo.hasPreviousPage, false);
    assert.equal(page1.products.pageInfo.startCursor, page1.products.edges[0].cursor);
    let info = page1.products.pageInfo;
    for (let n = 2; n <= 3; n++) {
      assert.ok(info.hasNextPage, `a page ${n} follows`);
      const more = await watched.fetchMore({ variables: { after: info.endCursor } });
      assert.equal(more.data.products.pageInfo.hasPreviousPage, true, `page ${n} comes after a cursor`);
      info = more.data.products.pageInfo;
    }
    assert.equal(info.hasNextPage, false, 'three pages hold all 7');
    assert.equal(sent.Page, 3, 'one request per page');
    // What the component sees once the merged list is broadcast, and what the cache holds.
    const { data: seen } = await firstValueFrom(watched.pipe(filter((r) => r.data?.products?.edges?.length === 7)));
    assert.deepEqual(seen, shop.client.readQuery({ query: PAGE, variables: { category: categoryId } }));
    const merged = seen.products;
    assert.deepEqual(merged.edges.map((e) => e.node.name), names, 'the pages merged in order');
    assert.equal(merged.totalCount, 7);
    assert.equal(merged.pageInfo.hasNextPage, false);
    assert.equal(merged.pageInfo.startCursor, merged.edges[0].cursor);
    assert.equal(merged.pageInfo.endCursor, merged.edges[6].cursor);
  } finally {
    sub.unsubscribe();
  }
  const { data: me } = await shop.client.query({ query: ME });
  assert.equal(me.me.email, email);

  // Let the access token expire (the server runs with a short ACCESS_TOKEN_TTL and no leeway).
  const wait = Date.parse(first.expiresAt) - Date.now() + 1100;
  await sleep(Math.max(wait, 0));
  const expired = await post('{ me { id } }', {}, { token: first.access });
  assert.equal(expired.body.errors[0].extensions.reason, 'TOKEN_EXPIRED', 'the access token has expired');

  // Three operations at once fail with TOKEN_EXPIRED; the error link refreshes once and all succeed.
  const meBefore = sent.Me;
  const [meAgain, detailed, page] = await Promise.all([
    shop.client.query({ query: ME }),
    shop.client.query({ query: CATALOG, variables: { category: categoryId } }),
    shop.client.query({ query: PAGE, variables: { category: categoryId } }),
  ]);
  assert.equal(meAgain.data.me.email, email);
  assert.equal(detailed.data.products.detailed, true);
  assert.deepEqual(detailed.data.products.items.map((p) => p.name), names);
  assert.equal(page.data.products.detailed, true);
  assert.equal(shop.stats.refreshes, 1, 'one refresh for concurrent failures');
  assert.equal(sent.Me - meBefore, 2, 'Me failed once with TOKEN_EXPIRED, then was retried once');
  assert.notEqual(shop.tokens.access, first.access);
  assert.notEqual(shop.tokens.refresh, first.refresh, 'refresh tokens rotate');

  // The refreshed token is not fresh: @fresh operations say so, and the link does not loop.
  const notFresh = await shop.client.mutate({ mutation: CREATE_CATEGORY, variables: { name: `c-${unique()}` } }).catch((e) => e);
  assert.equal(firstError(notFresh).reason, 'FRESH_TOKEN_REQUIRED');
  assert.equal(shop.stats.refreshes, 1);

  // Logout ends the session and resets the cache: the detailed answer is gone, a cache-first read
  // asks the server again and gets names only.
  const current = { ...shop.tokens };
  const catalogBefore = sent.Catalog;
  await shop.logout();
  const { data: afterLogout } = await shop.client.query({ query: CATALOG, variables: { category: categoryId }, fetchPolicy: 'cache-first' });
  assert.equal(sent.Catalog, catalogBefore + 1, 'logout dropped the detailed answer');
  assert.equal(afterLogout.products.detailed, false);
  assert.equal(afterLogout.products.items, null);

  // Its access and refresh tokens now fail with TOKEN_REVOKED.
  const afterLogoutMe = await post('{ me { id } }', {}, { token: current.access });
  assert.equal(afterLogoutMe.body.errors[0].extensions.code, 'UNAUTHENTICATED');
  assert.equal(afterLogoutMe.body.errors[0].extensions.reason, 'TOKEN_REVOKED');
  const refreshAfterLogout = await post('mutation($t: String) { refreshToken(token: $t) { accessToken } }', { t: current.refresh });
  assert.equal(refreshAfterLogout.body.errors[0].extensions.reason, 'TOKEN_REVOKED');
  const rotatedAway = await post('mutation($t: String) { refreshToken(token: $t) { accessToken } }', { t: first.refresh });
  assert.equal(rotatedAway.body.errors[0].extensions.reason, 'TOKEN_REVOKED');

  // A client still holding the revoked token gets TOKEN_REVOKED, not a refresh.
  const stale = createShopClient({ uri: ENDPOINT });
  Object.assign(stale.tokens, current);
  const revoked = await stale.client.query({ query: ME }).catch((e) => e);
  assert.equal(firstError(revoked).reason, 'TOKEN_REVOKED');
  assert.equal(stale.stats.refreshes, 0);
});
