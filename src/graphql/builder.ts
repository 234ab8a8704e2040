import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { isAdmin } from '../platform/op-context.ts';
import type { GraphQLContext } from './context.ts';
import { decodeNodeId } from './global-id.ts';

/** The Pothos schema types shared by every module's registration function. */
export interface SchemaTypes {
  Context: GraphQLContext;
  AuthScopes: { authenticated: boolean; admin: boolean };
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Connection: { totalCount: () => Promise<number> };
}

/** The configured builder type that `register…GraphQL(builder)` functions receive. */
export type Builder = PothosSchemaTypes.SchemaBuilder<PothosSchemaTypes.ExtendDefaultTypes<SchemaTypes>>;

/**
 * Creates a fresh builder with the plugins and conventions of the API; defines no types (each
 * module registers its own). A factory, so tests and the schema printer each get their own.
 */
export function createBuilder(): Builder {
  return new SchemaBuilder<SchemaTypes>({
    // scope-auth first so nothing resolves before authorization; relay before it would hand
    // parsed global ids to auth checks, which we do not use.
    plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin, DataloaderPlugin],
    defaultFieldNullability: false,
    defaultInputFieldRequiredness: true,
    scopeAuth: {
      authorizeOnSubscribe: true,
      authScopes: (context) => ({
        authenticated: context.op.viewer.kind !== 'anonymous',
        admin: isAdmin(context.op.viewer),
      }),
      unauthorizedError: (_parent, context) =>
        context.op.viewer.kind === 'anonymous'
          ? new GraphQLError('Sign in to do this', { extensions: { code: 'UNAUTHENTICATED' } })
          : new GraphQLError('You are not allowed to do this', { extensions: { code: 'FORBIDDEN' } }),
    },
    errors: { defaultTypes: [] },
    relay: {
      clientMutationId: 'omit',
      cursorType: 'String',
      edgesFieldOptions: { nullable: false },
      nodeFieldOptions: { nullable: false },
      nodeQueryOptions: { nullable: true, args: {} },
      nodesQueryOptions: { nullable: { list: false, items: true } },
      // `node`/`nodes`: a malformed id is BAD_USER_INPUT (the plugin's own is an error without a code).
      decodeGlobalID: decodeNodeId,
    },
  }) as unknown as Builder;
}
