import {
  Kind,
  TypeInfo,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  visit,
  valueFromASTUntyped,
  visitWithTypeInfo,
  type DocumentNode,
  type VariableDefinitionNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type ObjectFieldNode,
  type ArgumentNode,
  type ValueNode,
} from 'graphql';

/**
 * Cost points an input field adds to an operation whenever it is given a non-empty string, keyed by
 * its schema coordinate. armor's cost counts values resolved; these count work in the database that
 * no value shows: `ProductFilter.search` is a substring match (`ILIKE '%…%'` on name and SKU), which
 * no index serves, so each search reads every product, page and `totalCount` alike. 100 points is
 * a 100-item page's worth; at the default BASIC cost budget (30,000 a minute) one customer may search
 * at most 300 times a minute (fewer with the page's own cost), ample for search-as-you-type and far
 * below the 28 searches a second that stalled other customers in issue 10 (item 8).
 */
export const INPUT_FIELD_COSTS: Readonly<Record<string, number>> = Object.freeze({ 'ProductFilter.search': 100 });

/** Where an operation's costly inputs are: literal charges, and variable paths charged when they hold a non-empty string. */
export interface InputCharges {
  readonly literal: number;
  /** `path` starts with the variable name; `*` stands for every item of a list. */
  readonly variables: readonly { readonly path: readonly string[]; readonly cost: number }[];
  /** Default values of the operation's variables, used when a request leaves them out. */
  readonly defaults: Readonly<Record<string, unknown>>;
}

/**
 * Finds the costly input fields of `document` (one operation and its fragments): those written as
 * literals are charged at once; those that come from variables, directly or inside an input object
 * or list variable (`filter: $filter`), are remembered by path and charged per request by
 * {@link chargeOf}. Computed once per document.
 */
export function inputCharges(schema: GraphQLSchema, document: DocumentNode, costs: Readonly<Record<string, number>> = INPUT_FIELD_COSTS): InputCharges {
  const typeInfo = new TypeInfo(schema);
  let literal = 0;
  const variables: { path: string[]; cost: number }[] = [];
  const defaults: Record<string, unknown> = {};
  // The costly coordinates reachable inside a value of `type`, as paths below it.
  const within = (type: GraphQLInputType | undefined | null, seen: ReadonlySet<string> = new Set()): { path: string[]; cost: number }[] => {
    if (!type) return [];
    const nullable = getNullableType(type);
    if (isListType(nullable)) return within(nullable.ofType as GraphQLInputType, seen).map((c) => ({ ...c, path: ['*', ...c.path] }));
    const named = getNamedType(type);
    if (!isInputObjectType(named) || seen.has(named.name)) return [];
    return Object.values(named.getFields()).flatMap((field) => {
      const own = costs[`${named.name}.${field.name}`];
      const here = own ? [{ path: [field.name], cost: own }] : [];
      return [...here, ...within(field.type, new Set([...seen, named.name])).map((c) => ({ ...c, path: [field.name, ...c.path] }))];
    });
  };
  const onValue = (value: ValueNode, type: GraphQLInputType | undefined | null, own: number | undefined) => {
    if (value.kind === Kind.VARIABLE) {
      if (own) variables.push({ path: [value.name.value], cost: own });
      for (const inner of within(type)) variables.push({ path: [value.name.value, ...inner.path], cost: inner.cost });
    } else if (own && value.kind === Kind.STRING && value.value.length > 0) {
      literal += own;
    }
  };
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      VariableDefinition: {
        enter(node: VariableDefinitionNode) {
          if (node.defaultValue) defaults[node.variable.name.value] = valueFromASTUntyped(node.defaultValue);
        },
      },
      Argument: {
        enter(node: ArgumentNode) {
          onValue(node.value, typeInfo.getInputType(), undefined);
        },
      },
      ObjectField: {
        enter(node: ObjectFieldNode) {
          const parent = getNamedType(typeInfo.getParentInputType());
          const own = parent ? costs[`${parent.name}.${node.name.value}`] : undefined;
          onValue(node.value, typeInfo.getInputType(), own);
        },
      },
    }),
  );
  return { literal, variables, defaults };
}

/** The cost points of {@link InputCharges} for one request's variable values. */
export function chargeOf(charges: InputCharges, variableValues: Record<string, unknown> | null | undefined): number {
  let total = charges.literal;
  for (const { path, cost } of charges.variables) {
    let values: unknown[] = [{ ...charges.defaults, ...variableValues }];
    for (const step of path) {
      values = values.flatMap((value) => {
        if (step === '*') return Array.isArray(value) ? value : [value];
        return value !== null && typeof value === 'object' && !Array.isArray(value) ? [(value as Record<string, unknown>)[step]] : [];
      });
    }
    for (const value of values) if (typeof value === 'string' && value.length > 0) total += cost;
  }
  return total;
}
