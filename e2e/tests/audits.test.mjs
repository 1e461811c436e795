// GraphQL-over-HTTP conformance: graphql-http's serverAudits against /graphql. No audit may
// fail with status error; every warn must be explained in e2e/AUDITS.md (by its id).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { serverAudits } from 'graphql-http';
import { ENDPOINT } from './lib.mjs';

// Only the "Warnings explained" section counts: the ids of fixed warnings appear above it.
const audits = await readFile(new URL('../AUDITS.md', import.meta.url), 'utf8');
const explained = audits.split('## Warnings explained')[1] ?? '';
const results = [];

test('graphql-http server audits', async (t) => {
  for (const audit of serverAudits({ url: ENDPOINT })) {
    await t.test(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      results.push(result);
      if (result.status === 'error') {
        assert.fail(`${result.reason}; response: ${result.response?.status} ${await result.response?.text()}`);
      }
      if (result.status === 'warn') {
        assert.ok(explained.includes(audit.id), `warn ${audit.id} (${result.reason}) is neither fixed nor explained in e2e/AUDITS.md`);
      }
    });
  }
  const count = (s) => results.filter((r) => r.status === s).length;
  t.diagnostic(`audits: ${results.length}; ok ${count('ok')}, notice ${count('notice')}, warn ${count('warn')}, error ${count('error')}`);
  for (const r of results.filter((r) => r.status !== 'ok')) t.diagnostic(`${r.status} ${r.id} ${r.name}: ${r.reason}`);
  assert.ok(results.length >= 50, `only ${results.length} audits ran`);
});
