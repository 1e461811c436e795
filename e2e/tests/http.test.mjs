// The HTTP surface of the real binary: probes, metrics, request ids, methods, media types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ENDPOINT, post } from './lib.mjs';

test('probes: /healthz and /readyz answer 200 on a healthy server', async () => {
  for (const path of ['/healthz', '/readyz']) {
    const res = await fetch(BASE + path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  }
});

test('metrics: Prometheus text with request, auth and database series', async () => {
  await post('query E2EMetrics { me { id } }');
  const res = await fetch(`${BASE}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /^shopql_graphql_requests_total\{operation="E2EMetrics",outcome="error",type="query"\} 1$/m);
  assert.match(text, /^shopql_auth_failures_total\{reason="TOKEN_MISSING"\} [1-9]/m);
  assert.match(text, /^shopql_graphql_request_duration_seconds_bucket\{operation="E2EMetrics",type="query",le="\+Inf"\} 1$/m);
  assert.match(text, /^go_sql_open_connections\{db_name="shopql"\} \d+/m);
});

test('request ids: a sane one is echoed, others are replaced', async () => {
  const sane = await post('{ __typename }', undefined, { headers: { 'x-request-id': 'e2e-1234' } });
  assert.equal(sane.headers.get('x-request-id'), 'e2e-1234');
  const bad = await post('{ __typename }', undefined, { headers: { 'x-request-id': 'a b c' } });
  assert.match(bad.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
});

test('methods and media types on /graphql', async () => {
  const put = await fetch(ENDPOINT, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, POST, OPTIONS');
  const getMutation = await fetch(`${ENDPOINT}?query=${encodeURIComponent('mutation { logout }')}`);
  assert.equal(getMutation.status, 405);
  assert.equal(getMutation.headers.get('allow'), 'POST');
  const html = await post('{ __typename }', undefined, { headers: { accept: 'text/html' } });
  assert.equal(html.status, 406);
  const bad = await post('{ nope }', undefined, { headers: { accept: 'application/graphql-response+json' } });
  assert.equal(bad.status, 400);
  assert.match(bad.headers.get('content-type'), /^application\/graphql-response\+json/);
  assert.equal('data' in bad.body, false);
  const legacy = await post('{ nope }', undefined, { headers: { accept: 'application/json' } });
  assert.equal(legacy.status, 200);
  assert.match(legacy.headers.get('content-type'), /^application\/json/);
});

test('GraphiQL page and assets at /, any other path 404', async () => {
  const page = await fetch(`${BASE}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  const html = await page.text();
  for (const asset of html.matchAll(/(?:href|src)="\.\/([^"?]+)/g)) {
    const res = await fetch(`${BASE}/${asset[1]}`);
    assert.equal(res.status, 200, asset[1]);
  }
  assert.doesNotMatch(html, /https?:\/\//, 'the page loads nothing from elsewhere');
  assert.equal((await fetch(`${BASE}/no-such-page`)).status, 404);
});
