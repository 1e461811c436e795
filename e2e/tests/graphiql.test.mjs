// GraphiQL served by the server itself, driven in headless Chromium (Debian's chromium package):
// the page loads with nothing fetched from elsewhere, a query typed into the editor runs and its
// data shows in the result pane, the Authorization header can be set, and error codes are shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { ADMIN_EMAIL, adminLogin, mustPost, seedCatalog, startServer, unique } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../artifacts/', import.meta.url);

/** Replaces the content of the CodeMirror editor inside selector by typing text into it. */
async function typeInto(page, selector, text) {
  const editor = page.locator(`${selector} .CodeMirror`).filter({ visible: true }).first();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // insertText types the text as one input event: CodeMirror's bracket auto-closing, which would
  // double every typed "}", does not fire for it.
  await page.keyboard.insertText(text);
  const value = await editor.evaluate((el) => el.CodeMirror.getValue());
  assert.equal(value, text, `editor ${selector} holds what was typed`);
}

/**
 * Waits until GraphiQL has parsed the edited query: its tab then bears the operation's name.
 * Running earlier would send the previous operation's name with the new text.
 */
async function waitForOperation(page, name) {
  await page.locator('.graphiql-tab-active').getByText(name, { exact: true }).waitFor({ timeout: 15000 });
}

/** Runs the query in the editor (Ctrl-Enter there) and waits until the result pane contains expected. */
async function runAndExpect(page, expected) {
  await page.locator('.graphiql-query-editor .CodeMirror').click();
  await page.keyboard.press('Control+Enter');
  const result = page.locator('.result-window');
  await result.getByText(expected, { exact: false }).first().waitFor({ timeout: 15000 });
  return result.evaluate((el) => el.querySelector('.CodeMirror').CodeMirror.getValue());
}

test('GraphiQL in headless Chromium', async (t) => {
  // An instance of its own, with the default access-token lifetime: the shared one's 2 s would
  // expire while the browser works.
  const server = await startServer({ ACCESS_TOKEN_TTL: '15m' });
  t.after(server.stop);
  const BASE = server.url;
  const { names } = await seedCatalog(3, `${BASE}/graphql`);
  const { accessToken } = await adminLogin(`${BASE}/graphql`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    const foreign = [];
    const pageErrors = [];
    page.on('request', (req) => {
      const url = req.url();
      if (!url.startsWith(`${BASE}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // DEBUG_GRAPHIQL=1 prints what the page sent and logged, to diagnose a failure.
    const sent = [];
    page.on('request', (req) => { if (req.url().endsWith('/graphql')) sent.push((req.postData() ?? '').slice(0, 80)); });
    page.on('console', (m) => sent.push(`console ${m.type()}: ${m.text()}`));
    t.after(() => { if (process.env.DEBUG_GRAPHIQL) console.log(sent.join('\n')); });

    // GraphiQL loads the schema by introspection first; a run before that may be dropped.
    const schemaLoaded = page.waitForResponse((r) => r.url() === `${BASE}/graphql` && /IntrospectionQuery/.test(r.request().postData() ?? ''));
    const res = await page.goto(`${BASE}/`);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(res.headers()['x-frame-options'], 'DENY');
    assert.equal((await schemaLoaded).status(), 200);
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ timeout: 15000 });
    const opening = await page.locator('.graphiql-query-editor .CodeMirror').evaluate((el) => el.CodeMirror.getValue());
    assert.match(opening, /query Catalog/, 'opens with an example operation');

    // Anonymous: the catalog gives names only.
    await typeInto(page, '.graphiql-query-editor', 'query Names { products(first: 50) { detailed names message } }');
    await waitForOperation(page, 'Names');
    const anon = JSON.parse(await runAndExpect(page, '"detailed"'));
    assert.equal(anon.data.products.detailed, false);
    assert.ok(names.every((n) => anon.data.products.names.includes(n)));

    // An @auth field without a token: the result shows our error code and reason.
    await typeInto(page, '.graphiql-query-editor', 'query Me { me { email isAdmin } }');
    await waitForOperation(page, 'Me');
    const denied = JSON.parse(await runAndExpect(page, 'TOKEN_MISSING'));
    assert.equal(denied.errors[0].extensions.code, 'UNAUTHENTICATED');

    // With the Authorization header set in the headers editor: the account, then full details.
    // The headers editor is open at start (the page asks for it), below the query editor.
    await typeInto(page, '.graphiql-editor-tool', JSON.stringify({ Authorization: `Bearer ${accessToken}` }));
    const me = JSON.parse(await runAndExpect(page, ADMIN_EMAIL));
    assert.equal(me.data.me.isAdmin, true);

    await typeInto(page, '.graphiql-query-editor', 'query Catalog {\n  products(first: 3) {\n    detailed\n    totalCount\n    items { name price quantity category { name } }\n  }\n}');
    await waitForOperation(page, 'Catalog');
    const detailed = JSON.parse(await runAndExpect(page, '"items"'));
    assert.equal(detailed.data.products.detailed, true);
    assert.equal(detailed.data.products.items.length, 3);

    // A subscription runs over the WebSocket, authenticated by the same Headers tab, and shows an
    // event for a product another client creates.
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await typeInto(page, '.graphiql-query-editor', 'subscription Live {\n  productChanged { kind name }\n}');
    await waitForOperation(page, 'Live');
    await page.locator('.graphiql-query-editor .CodeMirror').click();
    await page.keyboard.press('Control+Enter');
    const opts = { endpoint: `${BASE}/graphql`, token: accessToken };
    const { createCategory } = await mustPost('mutation($n: String!) { createCategory(name: $n) { id } }', { n: `live-${unique()}` }, opts);
    const live = `live-${unique()}`;
    const result = page.locator('.result-window');
    // The subscription may not be in place yet when the first write commits: write until it shows.
    for (let i = 0; ; i++) {
      await mustPost('mutation($n: String!, $in: ProductInput!) { upsertProduct(name: $n, input: $in) { id } }',
        { n: live, in: { description: 'live', price: i, quantity: 1, categoryId: createCategory.id } }, opts);
      try {
        await result.getByText(live, { exact: false }).first().waitFor({ timeout: 500 });
        break;
      } catch (err) {
        if (i > 30) throw err;
      }
    }
    assert.deepEqual(sockets, [`${BASE.replace(/^http/, 'ws')}/graphql`], 'the subscription went over a WebSocket to /graphql');

    // Nothing GraphiQL stored (tabs, history, favourites, editors) holds the token, and after a
    // reload the headers editor is empty: headers live only as long as the page.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    assert.ok(stored.includes('query Catalog'), 'GraphiQL still keeps its tabs and history');
    assert.ok(!stored.includes(accessToken), `localStorage holds the access token: ${stored.slice(0, 300)}`);
    assert.ok(!/Bearer/.test(stored), 'localStorage holds an Authorization header');
    await page.reload();
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ timeout: 15000 });
    const headersAfterReload = await page.locator('.graphiql-editor-tool .CodeMirror').filter({ visible: true }).first()
      .evaluate((el) => el.CodeMirror.getValue());
    assert.equal(headersAfterReload, '', 'the headers editor is empty after a reload');

    // Another site cannot frame the page (clickjacking): the browser refuses to render it there.
    const framer = await browser.newPage();
    try {
      const framed = framer.waitForResponse((r) => r.url() === `${BASE}/`);
      await framer.setContent(`<iframe src="${BASE}/" width="800" height="600"></iframe>`);
      await framed;
      const child = framer.frames().find((f) => f !== framer.mainFrame());
      await child.waitForLoadState('load').catch(() => {});
      assert.ok(!child.url().startsWith(BASE), `the framed page loaded: ${child.url()}`);
    } finally {
      await framer.close();
    }

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('graphiql.png', ARTIFACTS).pathname, fullPage: true });

    assert.deepEqual(foreign, [], 'GraphiQL fetched nothing from other origins');
    assert.deepEqual(pageErrors, [], 'no JavaScript errors');
  } catch (err) {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('graphiql-failure.png', ARTIFACTS).pathname, fullPage: true }).catch(() => {});
    throw err;
  } finally {
    await browser.close();
  }
});
