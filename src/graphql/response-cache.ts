import { encodeGlobalID } from '@pothos/plugin-relay';
import { createHash } from 'node:crypto';
import { createInMemoryCache, useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  isListType,
  isObjectType,
  Kind,
  parse,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type SelectionNode,
  type GraphQLOutputType,
  type GraphQLSchema,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ChangeFeed, CommittedChange } from '../platform/change-feed.ts';
import { isAdmin, type Viewer } from '../platform/op-context.ts';
import { decodeNodeId } from './global-id.ts';
import { DOCUMENT_LIMITS, TRANSPORT_LIMITS } from './security/index.ts';

/**
 * The response cache (ADR 0015): `@graphql-yoga/plugin-response-cache` for the mechanics (keys,
 * entity collection, TTL, LRU), with our scope per viewer, list tags the library cannot see, a
 * race guard, and invalidation by committed changes from every instance (the change feed).
 */

/** Settings of {@link createResponseCache}. */
export interface ResponseCacheOptions {
  readonly schema: GraphQLSchema;
  /** Lifetime of an entry in ms (RESPONSE_CACHE_TTL_MS, default 60,000): bounds what invalidation could miss. */
  readonly ttlMs: number;
  /** Entries kept per instance (RESPONSE_CACHE_MAX_ENTRIES, default 10,000), least recently used evicted. */
  readonly maxEntries: number;
  /** The bearer token's viewer, as the context factory verifies it; undefined when invalid. */
  readonly verifyToken: (token: string) => Promise<{ readonly viewer: Viewer } | undefined>;
  /** Committed changes of every instance: what makes entries go. */
  readonly changes: ChangeFeed;
  /** A monotonic clock in ms (tests); default `performance.now`. */
  readonly now?: () => number;
  /** The cost points a request's operation was charged (security/operation-limits.ts), stored with its answer. */
  readonly pointsOf?: (context: object) => number | undefined;
}

/** Whose data a cached result is: `admin`, `customer:<id>`, or `public` (anonymous, and the catalog for every non-admin). */
export type CacheScope = 'admin' | 'public' | `customer:${string}`;

/**
 * Types whose changes no committed-change signal reports: a result containing one is never
 * cached. None today: Payment, the last one, is covered by the payments module's `payment`
 * changes (tagged as its order, the only way to reach a payment).
 */
export const UNCACHED_TYPES: readonly string[] = [];

/** Root fields of the public catalog: a query made only of them reads nothing viewer-dependent (Product has no such field). */
const CATALOG_ROOT_FIELDS = new Set(['product', 'products', '__typename']);

/** Root fields that name the objects they answer by id (`id`/`ids` arguments): tagged by those ids, so an answer of null is forgotten too when the object changes. */
const ID_ROOT_FIELDS = new Set(['product', 'order', 'node', 'nodes']);

/** The node types whose lists we tag: a field returning a list or connection of one gets its list tag. */
const LISTED_TYPES = new Set(['Order', 'Product', 'Customer']);

/** What one document's selected operation tells the cache, computed once per document and operation name. */
interface DocumentFacts {
  readonly query: boolean;
  /** Only public catalog root fields: one entry for every non-admin viewer. */
  readonly catalogOnly: boolean;
  /** Node types of the lists (and connections) it reads. */
  readonly listedTypes: ReadonlySet<string>;
  /** `id`/`ids` argument values of the root fields that load by id. */
  readonly idArguments: readonly ValueNode[];
}

/** What the cache knows of one HTTP request, from before its execution (yoga's onParams). */
interface RequestFacts {
  /** When the request started, on the cache's clock: a result is not stored if one of its tags was invalidated since. */
  readonly startedAt: number;
  /** Tags the library cannot collect: lists, and the ids asked for. */
  readonly tags: readonly string[];
  /** The cost points the request was charged, read when its answer is stored (see {@link CHARGED_POINTS}). */
  readonly points?: () => number | undefined;
}

/**
 * Where a stored answer keeps the cost points its operation was charged, for hits answered before
 * the cost limits run (src/graphql/response-cache-front.ts). A symbol: never serialised.
 */
export const CHARGED_POINTS = Symbol('ordergraph.chargedPoints');

/** The global id the schema gives `typename`'s object `id` (a Relay id: base64 of `Typename:uuid`). */
export const globalIdOf = (typename: string, id: string): string => encodeGlobalID(typename, id);

/** The tag of an object, as the library records it from a result (`Order:<global id>`). */
export const entityTag = (typename: string, id: string): string => `${typename}:${globalIdOf(typename, id)}`;

/** The list tag of `typename` in `scope`: orders are listed per viewer, products and customers alike for all who see them. */
export const listTag = (typename: string, scope: CacheScope): string => (typename === 'Order' ? `OrderList:${scope}` : `${typename}List`);

/** The tags a committed change makes stale (see {@link listTag}, {@link entityTag}). */
export function tagsOf(change: CommittedChange): string[] {
  switch (change.kind) {
    case 'order': {
      const products = change.stockMoved.map((id) => entityTag('Product', id));
      return [entityTag('Order', change.orderId), listTag('Order', `customer:${change.customerId}`), listTag('Order', 'admin'), ...products, ...(products.length > 0 ? [listTag('Product', 'public')] : [])];
    }
    case 'product':
      return [entityTag('Product', change.productId), listTag('Product', 'public')];
    case 'customer':
      return [entityTag('Customer', change.customerId), listTag('Customer', 'admin')];
    case 'payment':
      // A Payment has no id and is reached only through `Order.payment`, so every answer holding
      // one holds its order (the library selects the order's id even when the query does not).
      // No list tag: no list is filtered or ordered by anything of the payment.
      return [entityTag('Order', change.orderId)];
  }
}

/** The scope of a viewer's results before the document is known. */
export const scopeOfViewer = (viewer: Viewer): CacheScope => (isAdmin(viewer) ? 'admin' : viewer.kind === 'customer' ? `customer:${viewer.customerId}` : 'public');

/** The node type a field returns a list or connection of, or undefined. */
function listedTypeOf(type: GraphQLOutputType): string | undefined {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return getNamedType(nullable).name;
  if (!isObjectType(nullable)) return undefined;
  const edges = nullable.getFields().edges;
  const edge = edges ? getNamedType(edges.type) : undefined;
  const node = edge && isObjectType(edge) ? edge.getFields().node : undefined;
  return node ? getNamedType(node.type).name : undefined;
}

/** The root field names of `operation`'s selection, through fragments; undefined when a fragment is missing. */
function rootFieldNames(document: DocumentNode, selections: readonly SelectionNode[], seen = new Set<string>()): string[] | undefined {
  const names: string[] = [];
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) names.push(selection.name.value);
    else {
      let inner: readonly SelectionNode[] | undefined;
      if (selection.kind === Kind.INLINE_FRAGMENT) inner = selection.selectionSet.selections;
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const name = selection.name.value;
        inner = document.definitions.find((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name)?.selectionSet.selections;
        if (!inner) return undefined;
      }
      const more = inner ? rootFieldNames(document, inner, seen) : [];
      if (!more) return undefined;
      names.push(...more);
    }
  }
  return names;
}

/**
 * The facts of a document's selected operation (see {@link DocumentFacts}). Fragments the
 * operation does not use still add list types: a needless invalidation, never a stale entry.
 */
export function documentFacts(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): DocumentFacts {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'query') return { query: false, catalogOnly: false, listedTypes: new Set(), idArguments: [] };
  const roots = rootFieldNames(document, operation.selectionSet.selections);
  const listedTypes = new Set<string>();
  const idArguments: ValueNode[] = [];
  const typeInfo = new TypeInfo(schema);
  const queryType = schema.getQueryType();
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const type = typeInfo.getType();
        const listed = type ? listedTypeOf(type) : undefined;
        if (listed && LISTED_TYPES.has(listed)) listedTypes.add(listed);
        if (typeInfo.getParentType() === queryType && ID_ROOT_FIELDS.has(node.name.value)) {
          for (const argument of node.arguments ?? []) if (argument.name.value === 'id' || argument.name.value === 'ids') idArguments.push(argument.value);
        }
      },
    }),
  );
  return { query: true, catalogOnly: roots !== undefined && roots.every((name) => CATALOG_ROOT_FIELDS.has(name)), listedTypes, idArguments };
}

/** The global ids an `id`/`ids` argument names with these variables, as entity tags (ids that do not decode are left out: the query fails). */
function idTags(values: readonly ValueNode[], variables: Record<string, unknown>): string[] {
  const raw: unknown[] = [];
  const collect = (value: ValueNode) => {
    if (value.kind === Kind.VARIABLE) raw.push(variables[value.name.value]);
    else if (value.kind === Kind.STRING) raw.push(value.value);
    else if (value.kind === Kind.LIST) value.values.forEach(collect);
  };
  values.forEach(collect);
  const tags: string[] = [];
  for (const id of raw.flat()) {
    if (typeof id !== 'string') continue;
    try {
      const decoded = decodeNodeId(id);
      tags.push(entityTag(decoded.typename, decoded.id));
    } catch {
      // Not a global id of ours: the resolver answers BAD_USER_INPUT and nothing is cached.
    }
  }
  return tags;
}

/** JSON with object keys sorted, so variables sent in another key order share an entry. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** One request's view of the tagged cache: `set` is bound to the request's start and tags. */
type RequestCache = Cache;

/** The tagged cache: the library's in-memory cache, plus list tags, invalidation times and the race guard. */
export interface TaggedCache {
  /** A view for one request that started at `facts.startedAt`, adding `facts.tags` to what it stores. */
  forRequest(facts: RequestFacts): RequestCache;
  /** Forgets every entry carrying one of `tags` and remembers when (for the race guard). */
  invalidate(tags: Iterable<string>): void;
  /** Forgets everything (changes may have been missed). */
  clear(): void;
  /** The clock the cache measures with (ms). */
  readonly now: () => number;
}

/**
 * How long an invalidation time is kept, in ms: longer than any request runs (REQUEST_TIMEOUT_MS
 * is at most 600 s), so every request that could still store saw the invalidations after its start.
 */
const INVALIDATION_MEMORY_MS = 660_000;
/** Invalidation times kept before pruning; past it, older ones fold into one conservative floor. */
const MAX_REMEMBERED_INVALIDATIONS = 100_000;

/**
 * Builds the tagged cache over `createInMemoryCache({ max })`. Stored entries keep only `data`
 * (never other plugins' extensions: cost, cursors, HTTP headers). A request's `set` is skipped when
 * any of its tags (or everything, by `clear`) was invalidated at or after the request's start: it
 * may have read data older than that change.
 */
export function createTaggedCache(options: { readonly maxEntries: number; readonly now?: () => number }): TaggedCache {
  const now = options.now ?? (() => performance.now());
  let inner = createInMemoryCache({ max: options.maxEntries });
  const invalidatedAt = new Map<string, number>();
  /** Any request started before this is treated as having seen every invalidation: a clear, or pruned times. */
  let floor = -Infinity;

  const prune = () => {
    const cutoff = now() - INVALIDATION_MEMORY_MS;
    for (const [tag, at] of invalidatedAt) if (at < cutoff) invalidatedAt.delete(tag);
    if (invalidatedAt.size <= MAX_REMEMBERED_INVALIDATIONS) return;
    floor = now();
    invalidatedAt.clear();
  };
  const stale = (startedAt: number, tags: Iterable<string>) => {
    if (floor >= startedAt) return true;
    for (const tag of tags) if ((invalidatedAt.get(tag) ?? -Infinity) >= startedAt) return true;
    return false;
  };

  return {
    now,
    forRequest(facts) {
      return {
        get: (key) => inner.get(key),
        set(key, result, entities, ttl) {
          const records: { typename: string; id?: string | number }[] = [...entities, ...facts.tags.map((tag) => ({ typename: tag }))];
          const tags = records.map((r) => (r.id === undefined ? r.typename : `${r.typename}:${r.id}`));
          if (stale(facts.startedAt, tags)) return;
          const points = facts.points?.();
          const data = (result as ExecutionResult).data ?? null;
          const stored = points === undefined ? { data } : { data, [CHARGED_POINTS]: points };
          return inner.set(key, stored as ExecutionResult, records, ttl);
        },
        invalidate: (entities) => inner.invalidate(entities),
      };
    },
    invalidate(tags) {
      const at = now();
      const records = [];
      for (const tag of tags) {
        invalidatedAt.set(tag, at);
        records.push({ typename: tag });
      }
      // Tags are stored whole as the library's "typename" (ids included), so each is one key.
      void inner.invalidate(records);
      if (invalidatedAt.size > MAX_REMEMBERED_INVALIDATIONS) prune();
    },
    clear() {
      floor = now();
      inner = createInMemoryCache({ max: options.maxEntries });
    },
  };
}

/** `Bearer <token>` → token; undefined when absent or malformed (the context factory then answers 401). */
const bearerToken = (header: string | null): string | undefined => (header ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header.trim())?.[1] : undefined);

/** The response cache of one instance: its yoga plugin, and the tagged cache under it (tests, metrics). */
export interface ResponseCache {
  readonly plugin: Plugin<Record<string, unknown>>;
  readonly cache: TaggedCache;
  /** Stops listening to the change feed. */
  close(): void;
  /**
   * The stored answer (data only) the plugin would serve `viewer` for these parameters, found by
   * the same key, with the cost points its operation was charged when it was stored (undefined
   * when nothing was charged: rate limits off); undefined on a miss and for anything never cached (not a query, a document that
   * does not parse or is longer than 4,096 characters). For a hit path in front of yoga.
   */
  lookup(
    params: { readonly query: string; readonly variables?: Readonly<Record<string, unknown>> | undefined; readonly operationName?: string | undefined },
    viewer: Viewer,
  ): Promise<{ readonly data: unknown; readonly points: number | undefined } | undefined>;
}

/**
 * {@link documentFacts} memoised by document text and operation name, bounded like yoga's parse
 * cache (TRANSPORT_LIMITS: 512 entries of at most 4,096 characters, so a few MB at most; facts, not
 * syntax trees, are kept). The text is parsed here, before armor's limits run, so it is parsed
 * with armor's token limit; a longer text, or one that does not parse, is not cached (undefined).
 */
function createFactsMemo(schema: GraphQLSchema): (text: string, operationName: string | undefined) => DocumentFacts | undefined {
  const memo = new Map<string, DocumentFacts | null>();
  return (text, operationName) => {
    if (text.length > TRANSPORT_LIMITS.documentCacheMaxChars) return undefined;
    const key = `${operationName ?? ''}\n${text}`;
    let facts = memo.get(key);
    if (facts !== undefined) return facts ?? undefined;
    try {
      facts = documentFacts(schema, parse(text, { noLocation: true, maxTokens: DOCUMENT_LIMITS.tokens }), operationName);
    } catch {
      facts = null;
    }
    if (memo.size >= TRANSPORT_LIMITS.documentCacheEntries) memo.delete(memo.keys().next().value!);
    memo.set(key, facts);
    return facts ?? undefined;
  };
}

/**
 * The response cache (ADR 0015). The key is `<scope>|<sha256(document, operation, variables,
 * scope)>`, built in yoga's onParams, before execution: the scope comes from the bearer token
 * (verified as the context factory does) and the document (public catalog queries of non-admins
 * share `public`). Lookups happen in envelop's execute phase only (`enabled` is false before the
 * context exists), after the cost limits, so a hit is charged like any request; graphql-ws
 * operations, mutations and subscriptions are never looked up nor stored.
 */
export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const cache = createTaggedCache({ maxEntries: options.maxEntries, ...(options.now ? { now: options.now } : {}) });
  const factsOf = createFactsMemo(options.schema);
  const requests = new WeakMap<object, RequestFacts>();
  const stop = options.changes.listen({
    onChanges: (changes) => cache.invalidate(changes.flatMap(tagsOf)),
    onGap: () => cache.clear(),
  });
  // A function with the cache's methods: envelop calls it per context (our per-request view);
  // yoga's own lookups (If-None-Match, onParams) never run, as `enabled` is false there. A request
  // without facts (none reaches here) would get a view that never stores.
  const unknown: RequestFacts = { startedAt: -Infinity, tags: [] };
  const perRequest = Object.assign((context: object) => {
    const facts = requests.get(context);
    return cache.forRequest(facts && options.pointsOf ? { ...facts, points: () => options.pointsOf!(context) } : (facts ?? unknown));
  }, cache.forRequest(unknown));

  const plugin = useResponseCache<Record<string, unknown>>({
    cache: perRequest as unknown as Cache,
    ttl: options.ttlMs,
    ignoredTypes: [...UNCACHED_TYPES],
    invalidateViaMutation: false,
    includeExtensionMetadata: true,
    // Errors are never cached; the library's default says so on the console each time.
    shouldCacheResult: ({ result }) => !result.errors?.length,
    // Only once the GraphQL context exists (it then has `op`), and only for a query whose key we built.
    enabled: (_request, context) => 'op' in context && requests.has(context),
    async session(request) {
      const token = bearerToken(request.headers.get('authorization'));
      if (request.headers.get('authorization') === null) return 'public';
      const verified = token ? await options.verifyToken(token) : undefined;
      return verified ? scopeOfViewer(verified.viewer) : null;
    },
    async buildResponseCacheKey({ documentString, variableValues, operationName, sessionId, context }) {
      const startedAt = cache.now();
      const { key, scope, facts } = keyOf(documentString, operationName ?? undefined, variableValues ?? undefined, sessionId as CacheScope | null | undefined);
      if (scope && facts?.query) {
        const tags = [...[...facts.listedTypes].map((type) => listTag(type, scope)), ...idTags(facts.idArguments, (variableValues ?? {}) as Record<string, unknown>)];
        requests.set(context as object, { startedAt, tags });
      }
      return key;
    },
  });

  /** The key of a request, its final scope (the catalog rule applied) and its document's facts; no scope: not cacheable. */
  function keyOf(documentString: string, operationName: string | undefined, variables: Readonly<Record<string, unknown>> | undefined, viewerScope: CacheScope | null | undefined) {
    const facts = factsOf(documentString, operationName);
    const scope: CacheScope | undefined = !viewerScope ? undefined : viewerScope !== 'admin' && facts?.catalogOnly ? 'public' : viewerScope;
    // node:crypto's SHA-256 (synchronous, ~2 µs here) rather than the library's WebCrypto hashSHA256,
    // whose promise and thread-pool hop were a tenth of a hit's CPU in front of yoga (bench profile).
    const hash = createHash('sha256').update([documentString, operationName ?? '', stableJson(variables ?? {}), scope ?? ''].join('|')).digest('hex');
    return { key: `${scope ?? 'none'}|${hash}`, scope, facts };
  }

  return {
    plugin: plugin as Plugin<Record<string, unknown>>,
    cache,
    close: stop,
    async lookup(params, viewer) {
      const { key, scope, facts } = keyOf(params.query, params.operationName, params.variables, scopeOfViewer(viewer));
      if (!scope || !facts?.query) return undefined;
      const entry = (await cache.forRequest(unknown).get(key)) as { data: unknown; [CHARGED_POINTS]?: number } | undefined | null;
      return entry ? { data: entry.data, points: entry[CHARGED_POINTS] } : undefined;
    },
  };
}
