import { envelop, useEngine } from '@envelop/core';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLArmorConfig } from '@escape.tech/graphql-armor-types';
import {
  Kind,
  TypeInfo,
  getNullableType,
  isListType,
  parse,
  validate,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../../platform/pagination.ts';

/** What graphql-armor counts in one operation (the largest operation of a document). */
export interface DocumentMetrics {
  /** Field nesting depth, fragments counted as one level each (armor's `maxDepth`). */
  readonly depth: number;
  /** Aliased fields, `__typename` aliases excepted (armor's `maxAliases`). */
  readonly aliases: number;
  /** Directives applied, fragments included (armor's `maxDirectives`). */
  readonly directives: number;
  /** Lexical tokens of the whole document (armor's `maxTokens`). */
  readonly tokens: number;
  /** armor's `costLimit` formula on the document as sent: only literal `first`/`last` multiply. */
  readonly cost: number;
  /**
   * The same formula once every connection's real page size is written in: `first`/`last` taken
   * from the variables, and the default page size where a connection field gets neither. This is
   * what the server charges (see {@link createCostMeter}).
   */
  readonly boundCost: number;
}

/** armor's cost weights (its defaults when left out). */
export interface CostModel {
  readonly objectCost?: number;
  readonly scalarCost?: number;
  readonly depthCostFactor?: number;
  readonly flattenFragments?: boolean;
}

/** How depth and cost are counted: armor's options that change the numbers, not the limits. */
export interface MeasureModel {
  /** Count only field levels, not fragment levels, in depth. */
  readonly flattenFragments?: boolean;
  readonly cost?: CostModel;
}

/**
 * Measures documents with graphql-armor's own rules (run with no limit, reading the counts they
 * report through `onAccept`), so the numbers in docs/security.md and the limits enforced come from
 * one implementation.
 */
export function createDocumentMeter(schema: GraphQLSchema, model: MeasureModel = {}) {
  const counts = { depth: 0, aliases: 0, directives: 0, tokens: 0, cost: 0 };
  const record = (key: keyof typeof counts) => [(_ctx: unknown, details: { n: number }) => void (counts[key] = details.n)];
  const unlimited = Number.MAX_SAFE_INTEGER;
  const config: GraphQLArmorConfig = {
    blockFieldSuggestion: { enabled: false },
    maxDepth: { n: unlimited, flattenFragments: model.flattenFragments ?? false, onAccept: record('depth') },
    maxAliases: { n: unlimited, onAccept: record('aliases') },
    maxDirectives: { n: unlimited, onAccept: record('directives') },
    maxTokens: { n: unlimited, onAccept: record('tokens') },
    costLimit: { ...model.cost, maxCost: unlimited, onAccept: record('cost') },
  };
  const getEnveloped = envelop({ plugins: [useEngine({ parse, validate, specifiedRules: [] }), EnvelopArmorPlugin(config)] });
  const cost = createCostMeter(schema, model.cost);

  return (source: string, variables: Record<string, unknown> = {}): DocumentMetrics => {
    counts.depth = counts.aliases = counts.directives = counts.tokens = counts.cost = 0;
    const enveloped = getEnveloped({});
    const document = enveloped.parse(source);
    const errors = enveloped.validate(schema, document);
    if (errors.length > 0) throw new Error(`cannot measure an invalid document: ${errors.map((e: { message: string }) => e.message).join('; ')}`);
    return { ...counts, boundCost: cost(document, variables) };
  };
}

/**
 * The armor cost of `document` as executed: the cost rule alone, on the document with every
 * connection's page size bound (see {@link bindPageSizes}). Synchronous; callers cache per document.
 */
export function createCostMeter(schema: GraphQLSchema, options: CostModel = {}) {
  let measured = 0;
  const getEnveloped = envelop({
    plugins: [
      useEngine({ parse, validate, specifiedRules: [] }),
      EnvelopArmorPlugin({
        blockFieldSuggestion: { enabled: false },
        maxDepth: { enabled: false },
        maxAliases: { enabled: false },
        maxDirectives: { enabled: false },
        maxTokens: { enabled: false },
        costLimit: { ...options, maxCost: Number.MAX_SAFE_INTEGER, onAccept: [(_ctx, details: { n: number }) => void (measured = details.n)] },
      }),
    ],
  });
  return (document: DocumentNode, variables: Record<string, unknown> | null | undefined): number => {
    measured = 0;
    const enveloped = getEnveloped({});
    enveloped.validate(schema, bindPageSizes(schema, document, variables ?? {}));
    return measured;
  };
}

/**
 * Names of the variables whose values {@link bindPageSizes} reads (`first`/`last` of connections,
 * `ids` of id-list fields): the bound cost of a document depends on these values and nothing else,
 * so it can be cached per document and per their values.
 */
export function pageSizeVariables(schema: GraphQLSchema, document: DocumentNode): string[] {
  const typeInfo = new TypeInfo(schema);
  const names = new Set<string>();
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node: FieldNode) {
          const args = typeInfo.getFieldDef()?.args ?? [];
          const sized = args.some((a) => a.name === 'first') && args.some((a) => a.name === 'last') ? ['first', 'last'] : args.some((a) => a.name === 'ids') ? ['ids'] : [];
          for (const argument of node.arguments ?? []) {
            if (sized.includes(argument.name.value) && argument.value.kind === Kind.VARIABLE) names.add(argument.value.name.value);
          }
        },
      },
    }),
  );
  return [...names];
}

/**
 * Rewrites the document so that every field returning many items carries its real item count as a
 * literal `first: N`, the only thing armor's cost rule multiplies by:
 * - a connection (a field with `first` and `last`): the literal or variable value the client sent
 *   for `first` or `last`, or the server's default page size when it sent neither;
 * - a field taking a list of ids (`nodes(ids:)`): the number of ids.
 * Without this, `orders(first: $n)` or `nodes(ids: $ids)` would cost one item whatever was sent.
 * The result is only measured, never executed.
 */
export function bindPageSizes(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  const sizeOf = (argument: ArgumentNode | undefined): number | undefined => {
    if (!argument) return undefined;
    const { value } = argument;
    if (value.kind === Kind.INT) return Number.parseInt(value.value, 10);
    if (value.kind === Kind.LIST) return value.values.length;
    if (value.kind === Kind.VARIABLE) {
      const bound = variables[value.name.value];
      if (Array.isArray(bound)) return bound.length;
      return typeof bound === 'number' && Number.isInteger(bound) ? bound : undefined;
    }
    return undefined;
  };
  const withSize = (node: FieldNode, size: number, drop: readonly string[]): FieldNode => ({
    ...node,
    arguments: [
      { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'first' }, value: { kind: Kind.INT, value: String(size) } },
      ...(node.arguments ?? []).filter((a) => !drop.includes(a.name.value)),
    ],
  });
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node: FieldNode) {
          const args = typeInfo.getFieldDef()?.args ?? [];
          const given = node.arguments ?? [];
          const named = (name: string) => given.find((a) => a.name.value === name);
          if (args.some((a) => a.name === 'first') && args.some((a) => a.name === 'last')) {
            const first = sizeOf(named('first'));
            const last = sizeOf(named('last'));
            const size = first === undefined && last === undefined ? DEFAULT_PAGE_SIZE : Math.max(first ?? 0, last ?? 0);
            return withSize(node, size, ['first', 'last']);
          }
          const ids = args.find((a) => a.name === 'ids');
          if (ids && isListType(getNullableType(ids.type))) return withSize(node, sizeOf(named('ids')) ?? 1, []);
          return undefined;
        },
      },
    }),
  );
}
