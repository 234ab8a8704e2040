import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import type { AnyModule, GraphQLRefs } from '../modules/module-descriptor.ts';
import { createBuilder } from './builder.ts';
import { registerCommonTypes } from './common.ts';

/**
 * Builds the whole schema on a fresh builder: the shared types, then each module's registration
 * in the order given (a module's fields may point at the refs of those before it, offered under
 * their names). Sorted, so the printed SDL is stable.
 */
export function buildSchema(modules: readonly AnyModule[]): GraphQLSchema {
  const builder = createBuilder();
  const refs: Record<string, unknown> & GraphQLRefs = { common: registerCommonTypes(builder) };
  for (const module of modules) refs[module.name] = module.graphql(builder, refs);
  return lexicographicSortSchema(builder.toSchema());
}
