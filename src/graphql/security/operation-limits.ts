import {
  Kind,
  getOperationAST,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Viewer } from '../../platform/op-context.ts';
import type { CostBudgets, CostReport } from './cost-budget.ts';
import { limitError, rateLimitedError } from './errors.ts';
import { MEASURE_MODEL } from './limits.ts';
import { chargeOf, inputCharges, type InputCharges } from './input-cost.ts';
import { createCostMeter, pageSizeVariables } from './measure.ts';
import type { Throttle } from './rate-limit.ts';

/** Per-identity rate limits enforced before an operation runs. */
export interface OperationThrottles {
  /** Cost points per window, by viewer class: every operation spends its bound cost (see measure.ts, cost-budget.ts). */
  readonly cost: CostBudgets;
  /** placeOrder calls per window (each aliased placeOrder of a request counts). */
  readonly placeOrder: Throttle;
}

export interface OperationLimitsOptions {
  /** Largest bound cost of one operation. */
  readonly maxCost: number;
  /** Whether a refusal may name the limit and the measured cost (not in production). */
  readonly exposeLimits: boolean;
  /** Per-identity limits; undefined when rate limiting is off. */
  readonly throttles: OperationThrottles | undefined;
  /** The identity an operation counts against (see identity.ts) and its viewer, from its context. */
  readonly identify: (context: unknown) => { readonly identity: string; readonly viewer: Viewer };
}

/** What the checks before execution decided: the refusal, if any, and the budget report for `extensions.cost`. */
interface Verdict {
  readonly error?: GraphQLError;
  readonly cost?: CostReport | undefined;
}

/**
 * Just before an operation executes (or a subscription starts), on every transport:
 * 1. its cost with the real page sizes bound, plus what its costly inputs make the database do
 *    (a product search: input-cost.ts), must not exceed `maxCost` (400, as for armor's limits;
 *    armor's validation rule has already refused documents whose literal cost is over);
 * 2. the identity pays that cost from its window's cost budget (by viewer class: cost-budget.ts),
 *    and one point per `placeOrder` from its order budget; an operation that does not fit gets
 *    RATE_LIMITED (429, Retry-After) and nothing runs, nor is anything charged.
 * Every operation that reached its budget gets `extensions.cost` (CostReport) on its result,
 * the refusal included; a subscription only on its refusal (it is charged once, when it starts).
 */
export function useOperationLimits(options: OperationLimitsOptions): Plugin {
  const meters = new WeakMap<GraphQLSchema, ReturnType<typeof createCostMeter>>();
  // Measuring walks the document twice (binding page sizes, then armor's cost rule): ~0.25 ms a
  // request (issue #6). The parse cache hands out the same DocumentNode for the same text, and the
  // cost depends only on the operation and the page-size variables, so it is kept per document
  // (weakly) under the operation name and those variables' sizes, a few entries each.
  const costs = new WeakMap<DocumentNode, Map<string, { sizeVariables: readonly string[]; bySize: Map<string, number>; inputs: InputCharges }>>();

  const costOf = (args: ExecutionArgs, operation: OperationDefinitionNode): number => {
    let meter = meters.get(args.schema);
    if (!meter) meters.set(args.schema, (meter = createCostMeter(args.schema, MEASURE_MODEL.cost)));
    const variables = args.variableValues as Record<string, unknown> | undefined;
    let perDocument = costs.get(args.document);
    if (!perDocument) costs.set(args.document, (perDocument = new Map()));
    const operationKey = operation.name?.value ?? '';
    let entry = perDocument.get(operationKey);
    if (!entry) {
      const document = onlyOperation(args.document, operation);
      entry = { sizeVariables: pageSizeVariables(args.schema, document), bySize: new Map(), inputs: inputCharges(args.schema, document) };
      if (perDocument.size < 16) perDocument.set(operationKey, entry);
    }
    const sizeKey = entry.sizeVariables.map((name) => sizeSignature(variables?.[name])).join(',');
    let cost = entry.bySize.get(sizeKey);
    if (cost === undefined) {
      cost = meter(onlyOperation(args.document, operation), variables);
      if (entry.bySize.size < 16) entry.bySize.set(sizeKey, cost);
    }
    // What the database does beyond the values resolved: a search scans every product.
    return cost + chargeOf(entry.inputs, variables);
  };

  const check = async (args: ExecutionArgs): Promise<Verdict> => {
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation) return {}; // graphql-js reports the missing or ambiguous operation
    const cost = costOf(args, operation);
    // A document error like armor's own refusals, before any budget is involved: no extensions.cost,
    // which would tell the measured cost that `exposeLimits` hides in production.
    if (cost > options.maxCost) return { error: limitError(`Query Cost limit of ${options.maxCost} exceeded, found ${cost}.`, options.exposeLimits) };
    const { throttles } = options;
    if (!throttles) return {};
    const { identity, viewer } = options.identify(args.contextValue);
    const points = Math.max(1, Math.ceil(cost));
    const charge = await throttles.cost.charge(identity, viewer, points);
    if (charge?.refused) return { error: rateLimitedError(charge.refused.retryAfterSeconds, 'requests'), cost: charge.report };
    if (operation.operation === 'mutation') {
      const orders = countRootFields(args.document, operation.selectionSet, 'placeOrder', new Set());
      const tooMany = orders > 0 ? await throttles.placeOrder.take(identity, orders) : undefined;
      if (tooMany) {
        // A refused operation costs nothing.
        if (charge) await throttles.cost.refund(identity, points);
        return { error: rateLimitedError(tooMany.retryAfterSeconds, 'orders'), cost: charge && { ...charge.report, remaining: charge.report.remaining + points } };
      }
    }
    if (charge) charged.set(args.contextValue as object, points);
    return { cost: charge?.report };
  };

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const { error, cost } = await check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
      if (!cost) return undefined;
      // Added once the result is final (executed, refused, or set by a later plugin such as a
      // response cache, which stores results without it), so each response carries its own.
      return {
        onExecuteDone: ({ result, setResult }) => {
          if (!isAsyncIterable(result)) setResult(withCost(result, cost));
        },
      };
    },
    // A subscription is charged once, when it starts; its events are shared by every subscriber of
    // a cohort (shared-subscriptions.ts), so they carry no per-subscriber cost (docs/adr/0014).
    async onSubscribe({ args, setResultAndStopExecution }) {
      const { error, cost } = await check(args);
      if (error) setResultAndStopExecution(withCost({ errors: [error] }, cost));
    },
  };
}

/** Points charged to each operation's budget, by its context (read by the response cache, stored with the answer). */
const charged = new WeakMap<object, number>();

/**
 * The cost points the operation of `context` was charged (its bound cost, at least 1), so that a
 * later answer of the same stored result can be charged the same; undefined when nothing was
 * charged (rate limits off, a system viewer, not yet checked).
 */
export const chargedPointsOf = (context: object): number | undefined => charged.get(context);

/** `result` with `extensions.cost` (none added when `cost` is undefined: rate limits off, a system viewer). */
function withCost(result: ExecutionResult, cost: CostReport | undefined): ExecutionResult {
  return cost ? { ...result, extensions: { ...result.extensions, cost } } : result;
}

/** What of a page-size variable's value the bound cost reads: a list's length or an integer. */
function sizeSignature(value: unknown): string {
  if (Array.isArray(value)) return `#${value.length}`;
  return typeof value === 'number' && Number.isInteger(value) ? String(value) : '-';
}

/** The document with only the operation being run (fragments stay; the cost walk starts from operations). */
function onlyOperation(document: DocumentNode, operation: OperationDefinitionNode): DocumentNode {
  return { ...document, definitions: document.definitions.filter((d) => d.kind !== Kind.OPERATION_DEFINITION || d === operation) };
}

/** How many times `name` is selected at the root, through inline fragments and fragment spreads. */
function countRootFields(document: DocumentNode, selectionSet: SelectionSetNode, name: string, seen: Set<string>): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === name) count += 1;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countRootFields(document, selection.selectionSet, name, seen);
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find(
        (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
      );
      if (fragment) count += countRootFields(document, fragment.selectionSet, name, seen);
    }
  }
  return count;
}
