// GraphQL Code Generator against the live server with the codegen.ts docs/CLIENTS.md ships
// (typescript-operations + typed-document-node, Time as string), then `tsc --noEmit` on a small
// typed Apollo Client 4 client: both must succeed as shipped, and the docs must show that file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { BASE } from './lib.mjs';

const run = promisify(execFile);
const TYPED = new URL('../typed/', import.meta.url);
const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;

test('codegen against the live server, then tsc --noEmit on a typed client', { timeout: 180000 }, async () => {
  await rm(new URL('generated/', TYPED), { recursive: true, force: true });
  const cwd = TYPED.pathname;
  await run(bin('graphql-codegen'), ['--config', 'codegen.ts'], { cwd, env: { ...process.env, SHOPQL_URL: BASE } });
  const generated = await readFile(new URL('generated/graphql.ts', TYPED), 'utf8');
  assert.match(generated, /accessTokenExpiresAt: string/, 'Time is a string');
  assert.match(generated, /edges: Array<\{ cursor: string, node: \{/, 'edges are typed');
  assert.match(generated, /DocumentNode<CatalogQuery, CatalogQueryVariables>/, 'typed document nodes');
  assert.doesNotMatch(generated, /: unknown[;,]/, 'no scalar falls back to unknown');

  const tsc = await run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'], { cwd }).catch((e) => e);
  assert.equal(tsc.code ?? 0, 0, `tsc --noEmit failed:\n${tsc.stdout}${tsc.stderr}`);

  const docs = await readFile(new URL('../../docs/CLIENTS.md', import.meta.url), 'utf8');
  const shipped = await readFile(new URL('codegen.ts', TYPED), 'utf8');
  assert.ok(docs.includes(shipped.trim()), 'docs/CLIENTS.md shows e2e/typed/codegen.ts as it is tested');
});
