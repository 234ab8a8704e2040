import type { MeasureModel } from './measure.ts';

/**
 * How depth and cost are counted (graphql-armor options that change the numbers, not the limits).
 * - Depth counts field levels only: a fragment is a way to write a selection, not a level of data,
 *   and armor's default (fragments as levels) puts our own PlaceOrder at 8, above its default 6.
 * - Cost keeps armor's weights (object 2, scalar 1) without its 1.5× per-level factor: depth is
 *   capped on its own, and without the factor the cost reads as "about the number of values
 *   resolved", page sizes included (see {@link bindPageSizes} in measure.ts).
 */
export const MEASURE_MODEL = {
  flattenFragments: true,
  cost: { objectCost: 2, scalarCost: 1, depthCostFactor: 1, flattenFragments: true },
} as const satisfies MeasureModel;

/**
 * Limits on one GraphQL document, each set from the operations Ordergraph's clients really send
 * (test/operations/*.graphql and the README examples, measured by test/security/limits.test.ts
 * and tabulated in docs/security.md), with a margin, and each tighter than graphql-armor's
 * default where the measurement allows it.
 */
export const DOCUMENT_LIMITS = {
  /**
   * Field levels. Deepest real operation: 6 (`orders → edges → node → lines → product → name`).
   * 7 admits one more level (a line's product price), and cuts off cyclic walks such as
   * `order → customer → orders → … → customer` after a few hops. armor: 6, fragments counted.
   */
  depth: 7,
  /** Aliased fields. Real operations use none; 5 lets a screen fetch a few things side by side. armor: 15. */
  aliases: 5,
  /** Directives (`@include`/`@skip`). Real operations use none; 10 is plenty for conditional UI. armor: 50. */
  directives: 10,
  /**
   * Lexical tokens of the whole document. Largest real operation: 133 (PlaceOrder with its
   * OrderFields fragment); GraphiQL's schema introspection query: 184. armor: 1,000.
   */
  tokens: 500,
  /**
   * Cost with every page size bound ({@link MEASURE_MODEL}). Heaviest real operations at the
   * largest page the API serves (100): Products 2,300, OrdersPage 2,200, Customers 1,500; the
   * rest are under 100. 3,000 leaves 30 % on the heaviest. armor: 5,000, counting only literal
   * `first`/`last`, under which an `orders(first: $n)` page costs as one row.
   */
  cost: 3_000,
} as const;

/** Limits on transports (HTTP bodies, graphql-ws sockets). */
export const TRANSPORT_LIMITS = {
  /**
   * Default request body cap in bytes (MAX_BODY_BYTES). Largest real body: a 50-line placeOrder
   * (~6 KB) or a createProduct with a 2,000-character description (≤ 12 KB JSON-escaped).
   * yoga's default is 25 MB, Apollo Router's 2 MB. The largest graphql-ws message is the same:
   * a subscribe message carries the same document and variables as a body.
   */
  bodyBytes: 64 * 1024,
  /** graphql-ws: a socket must send ConnectionInit within this many ms or is closed with 4408 (the library's default). */
  wsConnectionInitTimeoutMs: 3_000,
  /**
   * Operations one socket may run at once. A client follows its orders with one all-orders stream
   * or one stream per open order screen; 20 is far above that.
   */
  wsSubscriptionsPerSocket: 20,
  /**
   * Longest string anywhere in a request (a literal of the document, a variable, a key), in UTF-16
   * code units; longer: 400 BAD_USER_INPUT before parsing. The longest string argument is a product
   * description, 2,000 code points (up to 4,000 units); every argument's own maximum is smaller and
   * checked with its field path (docs/security.md).
   */
  stringChars: 4_096,
  /** Parsed documents kept in the parse cache (yoga: 1,024); real clients send a few dozen. */
  documentCacheEntries: 512,
  /** Only document texts up to this many characters are cached (4× the largest real operation). */
  documentCacheMaxChars: 4_096,
} as const;
