// GraphQL Code Generator for the shop API: typed operations and TypedDocumentNodes that Apollo
// Client 4 infers result and variable types from. Run: SHOPQL_URL=http://localhost:8080 npx graphql-codegen
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  // The live server's introspection (it returns exactly schema.graphqls; that file works too).
  schema: `${process.env.SHOPQL_URL ?? 'http://localhost:8080'}/graphql`,
  documents: ['operations/**/*.graphql'],
  generates: {
    'generated/graphql.ts': {
      // typescript-operations (6.x) emits the input and enum types the operations use by itself:
      // adding the `typescript` plugin to the same file declares them twice (TS2300 Duplicate identifier).
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        // Time is an RFC 3339 string on the wire (otherwise it becomes `unknown`/`any`).
        scalars: { Time: { input: 'string', output: 'string' }, ID: { input: 'string', output: 'string' } },
        useTypeImports: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: true },
        strictScalars: true,
        nonOptionalTypename: false,
      },
    },
  },
};

export default config;
