// Apollo Client against the real server: register, login, details, automatic recovery from an
// expired access token through refreshToken, logout, and the old tokens failing afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gql } from '@apollo/client/core/index.js';
import { ENDPOINT, post, seedCatalogue, sleep, unique } from './lib.mjs';
import { createShopClient } from './shop-client.mjs';

const REGISTER = gql`
  mutation Register($input: RegisterInput!) { register(input: $input) { id email isAdmin } }
`;
const ME = gql`query Me { me { id email username } }`;
const CATALOG = gql`
  query Catalog($category: ID) {
    products(first: 10, categoryId: $category) {
      detailed names message totalCount
      items { name price quantity category { name } }
    }
  }
`;
const CREATE_CATEGORY = gql`mutation CreateCategory($name: String!) { createCategory(name: $name) { id } }`;

/** The extensions of the first GraphQL error an Apollo call failed with. */
function firstError(err) {
  const e = err.graphQLErrors?.[0] ?? err.networkError?.result?.errors?.[0];
  assert.ok(e, `expected a GraphQL error, got ${err}`);
  return e.extensions;
}

test('Apollo Client: register, login, refresh on expiry, logout', async () => {
  const { category, names } = await seedCatalogue(3);
  const anonCats = await createShopClient({ uri: ENDPOINT }).client.query({ query: gql`{ categories { id } }` }).catch((e) => e);
  assert.equal(firstError(anonCats).reason, 'TOKEN_MISSING', 'categories needs a token');

  const shop = createShopClient({ uri: ENDPOINT });
  const email = `apollo-${unique()}@example.com`;
  const password = 'apollo-password-1';
  const { data: reg } = await shop.client.mutate({
    mutation: REGISTER,
    variables: { input: { email, username: 'apollo', password } },
  });
  assert.equal(reg.register.email, email);
  assert.equal(reg.register.isAdmin, false);

  // Anonymous: names only, with the message.
  const { data: anon } = await shop.client.query({ query: CATALOG });
  assert.equal(anon.products.detailed, false);
  assert.equal(anon.products.items, null);
  assert.equal(anon.products.message, 'Detailed info only after you login.');

  const login = await shop.login(email, password);
  assert.equal(login.user.email, email);
  const first = { ...shop.tokens };

  // Logged in: full details of the category seeded above.
  const { data: cats } = await shop.client.query({ query: gql`{ categories { id name } }` });
  const categoryId = cats.categories.find((c) => c.name === category).id;
  const { data: detailed } = await shop.client.query({ query: CATALOG, variables: { category: categoryId } });
  assert.equal(detailed.products.detailed, true);
  assert.deepEqual(detailed.products.items.map((p) => p.name), names);
  assert.equal(detailed.products.items[0].category.name, category);
  const { data: me } = await shop.client.query({ query: ME });
  assert.equal(me.me.email, email);

  // Let the access token expire (the server runs with a short ACCESS_TOKEN_TTL and no leeway).
  const wait = Date.parse(first.expiresAt) - Date.now() + 1100;
  await sleep(Math.max(wait, 0));
  const expired = await post('{ me { id } }', {}, { token: first.access });
  assert.equal(expired.body.errors[0].extensions.reason, 'TOKEN_EXPIRED', 'the access token has expired');

  // Two operations at once fail with TOKEN_EXPIRED; the error link refreshes once and both succeed.
  const [again, page] = await Promise.all([
    shop.client.query({ query: ME }),
    shop.client.query({ query: CATALOG, variables: { category: categoryId } }),
  ]);
  assert.equal(again.data.me.email, email);
  assert.equal(page.data.products.detailed, true);
  assert.equal(shop.stats.refreshes, 1, 'one refresh for concurrent failures');
  assert.notEqual(shop.tokens.access, first.access);
  assert.notEqual(shop.tokens.refresh, first.refresh, 'refresh tokens rotate');

  // The refreshed token is not fresh: @fresh operations say so, and the link does not loop.
  const notFresh = await shop.client.mutate({ mutation: CREATE_CATEGORY, variables: { name: `c-${unique()}` } }).catch((e) => e);
  assert.equal(firstError(notFresh).reason, 'FRESH_TOKEN_REQUIRED');
  assert.equal(shop.stats.refreshes, 1);

  // Logout ends the session: its access and refresh tokens now fail with TOKEN_REVOKED.
  const current = { ...shop.tokens };
  await shop.logout();
  const afterLogout = await post('{ me { id } }', {}, { token: current.access });
  assert.equal(afterLogout.body.errors[0].extensions.code, 'UNAUTHENTICATED');
  assert.equal(afterLogout.body.errors[0].extensions.reason, 'TOKEN_REVOKED');
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
