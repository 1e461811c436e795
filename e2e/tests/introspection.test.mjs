// Introspection round trip: the schema a client rebuilds from introspection (buildClientSchema +
// printSchema) is schema.graphqls, and every type, field, argument and directive is described.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  GraphQLSchema, buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema,
  isObjectType, isInputObjectType, isEnumType, isIntrospectionType, isSpecifiedScalarType, isSpecifiedDirective,
} from 'graphql';
import { mustPost } from './lib.mjs';

const introspectionQuery = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
});

async function clientSchema() {
  return buildClientSchema(await mustPost(introspectionQuery));
}

test('the schema rebuilt from introspection prints as schema.graphqls', async () => {
  const sdl = await readFile(new URL('../../schema.graphqls', import.meta.url), 'utf8');
  const fromFile = buildSchema(sdl);
  const fromServer = await clientSchema();
  // @defer, which gqlgen declares in every schema, is not offered and not advertised: the
  // server's directives are exactly the file's (and graphql-js's built-ins).
  const extra = fromServer.getDirectives().filter((d) => !fromFile.getDirective(d.name)).map((d) => d.name);
  assert.deepEqual(extra, []);
  // Types come back in alphabetical order, so both sides are sorted before printing.
  const printed = printSchema(lexicographicSortSchema(fromServer));
  assert.equal(printed, printSchema(lexicographicSortSchema(fromFile)));
  assert.match(printed, /directive @fresh on FIELD_DEFINITION/);
  assert.match(printed, /Token: fresh access token \(@fresh\)/);
});

test('every type, field, argument and directive has a description; operations say which token', async () => {
  const schema = await clientSchema();
  const missing = [];
  const need = (what, description) => { if (!description?.trim()) missing.push(what); };
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    need(`type ${type.name}`, type.description);
    if (isObjectType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        need(`${type.name}.${field.name}`, field.description);
        for (const arg of field.args ?? []) need(`${type.name}.${field.name}(${arg.name})`, arg.description);
      }
    }
    if (isEnumType(type)) for (const v of type.getValues()) need(`${type.name}.${v.name}`, v.description);
  }
  for (const directive of schema.getDirectives()) {
    if (isSpecifiedDirective(directive)) continue;
    need(`@${directive.name}`, directive.description);
    for (const arg of directive.args) need(`@${directive.name}(${arg.name})`, arg.description);
  }
  assert.deepEqual(missing, [], 'undocumented parts of the schema');

  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(root.getFields())) {
      assert.match(field.description, /Token/, `${root.name}.${field.name} does not say which token it needs`);
    }
  }
});
