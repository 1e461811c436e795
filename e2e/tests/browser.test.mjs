// A real browser on another origin: a page served from another local port (listed in the server's
// CORS_ALLOWED_ORIGINS by run.sh) runs Apollo Client 4 (shop-client.mjs, bundled with esbuild now)
// in headless Chromium, with client awareness and a W3C traceparent header. It logs in and reads the
// detailed catalog; the browser's own CORS checks decide whether those requests may go at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, ENDPOINT, seedCatalog } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ORIGIN = process.env.SHOPQL_WEB_ORIGIN;

// What the page runs: the shop client, as an app would use it.
const ENTRY = `
import { gql } from '@apollo/client';
import { createShopClient } from './shop-client.mjs';
window.runShop = async ({ uri, email, password, traceparent, extraHeader }) => {
  const shop = createShopClient({
    uri,
    headers: { traceparent, ...extraHeader },
    clientAwareness: { name: 'shop-web', version: '1.2.3' },
    defaultOptions: {},
  });
  try {
    await shop.login(email, password);
    const { data } = await shop.client.query({ query: gql\`query BrowserCatalog {
      products(first: 100) { detailed edges { cursor node { name category { name } } } pageInfo { hasNextPage } }
    }\` });
    await shop.logout();
    return { ok: true, products: data.products };
  } catch (err) {
    return { ok: false, error: String(err) };
  }
};
`;

test('Apollo Client 4 in Chromium on another origin: CORS with client awareness and traceparent', { timeout: 120000, skip: !ORIGIN && 'SHOPQL_WEB_ORIGIN is not set: run with e2e/run.sh' }, async (t) => {
  const { names } = await seedCatalog(2);
  const bundle = await build({
    stdin: { contents: ENTRY, resolveDir: new URL('.', import.meta.url).pathname, loader: 'js' },
    bundle: true, write: false, format: 'iife', platform: 'browser', target: 'chrome120',
    define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'silent',
  });
  const js = bundle.outputFiles[0].text;

  const web = createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>shop</title><script src="/app.js"></script>');
    }
  });
  const { port } = new URL(ORIGIN);
  await new Promise((resolve) => web.listen(Number(port), '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => web.close(resolve)));

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const sent = [];
  page.on('request', (req) => { if (req.url() === ENDPOINT) sent.push(req.headers()); });
  await page.goto(`${ORIGIN}/`);
  assert.notEqual(new URL(page.url()).origin, new URL(ENDPOINT).origin, 'the page is on another origin');

  const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
  const args = { uri: ENDPOINT, email: ADMIN_EMAIL, password: ADMIN_PASSWORD, traceparent };
  const result = await page.evaluate((a) => window.runShop(a), args);
  assert.ok(result.ok, `the page failed: ${result.error}`);
  assert.equal(result.products.detailed, true);
  const listed = result.products.edges.map((e) => e.node.name);
  for (const name of names) assert.ok(listed.includes(name), `${name} is in the catalog the page read`);

  // Every API request carried client awareness and the trace header, so each one needed (and
  // passed) a preflight: these are not CORS-safelisted headers.
  assert.ok(sent.length >= 3, `login, catalog, logout: ${sent.length} requests`);
  for (const h of sent) {
    assert.equal(h['apollographql-client-name'], 'shop-web');
    assert.equal(h['apollographql-client-version'], '1.2.3');
    assert.equal(h.traceparent, traceparent);
  }

  // The control: a header the server does not allow fails the preflight, and the browser sends nothing.
  const refused = await page.evaluate((a) => window.runShop(a), { ...args, extraHeader: { 'x-not-allowed': '1' } });
  assert.equal(refused.ok, false, 'a header outside the allow-list is refused by the browser');
  assert.match(refused.error, /fetch/i);
});
