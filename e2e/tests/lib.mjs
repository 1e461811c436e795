// Shared helpers for the e2e tests. run.sh starts the server and passes its address and
// settings in the environment.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Base URL of the running server, without a trailing slash. */
export const BASE = required('SHOPQL_URL');
/** The GraphQL endpoint. */
export const ENDPOINT = `${BASE}/graphql`;
export const ADMIN_EMAIL = required('SHOPQL_ADMIN_EMAIL');
export const ADMIN_PASSWORD = required('SHOPQL_ADMIN_PASSWORD');

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite with e2e/run.sh`);
  return v;
}

/** A unique suffix, so that tests never collide on names or emails. */
export function unique() {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Posts a GraphQL request with plain fetch and returns { status, headers, body }. */
export async function post(query, variables, { token, headers = {}, endpoint = ENDPOINT } = {}) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Like post, but fails on any GraphQL error and returns data. */
export async function mustPost(query, variables, opts) {
  const r = await post(query, variables, opts);
  assert.equal(r.body.errors, undefined, `unexpected errors: ${JSON.stringify(r.body.errors)}`);
  return r.body.data;
}

/** Logs the admin account in and returns its login payload. */
export async function adminLogin(endpoint = ENDPOINT) {
  const data = await mustPost(
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }',
    { e: ADMIN_EMAIL, p: ADMIN_PASSWORD },
    { endpoint },
  );
  return data.login;
}

/** Creates a category with a few products through the admin account; returns their names. */
export async function seedCatalog(count = 3, endpoint = ENDPOINT) {
  const { accessToken } = await adminLogin(endpoint);
  const opts = { token: accessToken, endpoint };
  const cat = `cat-${unique()}`;
  const { createCategory } = await mustPost('mutation($n: String!) { createCategory(name: $n) { id } }', { n: cat }, opts);
  const names = [];
  for (let i = 0; i < count; i++) {
    const name = `product-${unique()}`;
    await mustPost(
      'mutation($n: String!, $in: ProductInput!) { createProduct(name: $n, input: $in) { id } }',
      { n: name, in: { description: `Sample ${i}`, price: 10 + i, quantity: i + 1, categoryId: createCategory.id } },
      opts,
    );
    names.push(name);
  }
  return { category: cat, names };
}

/**
 * Starts another instance of the server binary run.sh built (SHOPQL_BIN), on a fresh SQLite file
 * and a free port, with the same admin account and the given extra settings; for tests that need
 * settings other than the shared server's (e.g. a normal token lifetime). Returns { url, stop }.
 */
export async function startServer(env = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'shopql-e2e-'));
  const port = await freePort();
  const child = spawn(required('SHOPQL_BIN'), [], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: join(dir, 'shop.db'),
      ADMIN_EMAIL, ADMIN_PASSWORD,
      PASSWORD_HASH_MEMORY_KIB: '8192',
      PASSWORD_HASH_ITERATIONS: '1',
      ...env,
    },
  });
  let log = '';
  child.stderr.on('data', (b) => { log += b; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, stop };
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  await stop();
  throw new Error(`the server did not become ready:\n${log}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
