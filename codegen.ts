import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * GraphQL Code Generator: types every operation the tests send (test/operations) against the
 * committed, code-generated schema/schema.graphql. `npm run codegen` rewrites
 * test/generated/operations.ts; CI fails when it is stale.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  generates: {
    'test/generated/operations.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
        scalars: { DateTime: 'string', ID: 'string' },
        skipTypename: false,
      },
    },
  },
  hooks: {},
};

export default config;
