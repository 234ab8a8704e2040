import type { ValidationError } from '../../src/platform/errors.ts';
import { anonymous, systemContext, type OpContext } from '../../src/platform/op-context.ts';
import { invalidCursor, type Page, type PageWindow } from '../../src/platform/pagination.ts';
import { err, ok, type Result } from '../../src/platform/result.ts';
import type { Product } from '../../src/modules/catalog/domain/product.ts';
import type { ProductChanges, ProductFilter, ProductOrder, ProductRepository } from '../../src/modules/catalog/application/ports.ts';

/** One recorded `findPage` call. */
export interface ProductPageCall {
  readonly filter: ProductFilter;
  readonly order: ProductOrder;
  readonly window: PageWindow;
}

type SortValue = string | number;
type Key = readonly [SortValue, string];

const sortValueOf = (product: Product, order: ProductOrder): SortValue =>
  order.field === 'NAME' ? product.name : order.field === 'PRICE' ? product.priceMinor : product.createdAt.toISOString();

const compareValues = (a: SortValue, b: SortValue): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * In-memory {@link ProductRepository} with the database one's contract: unique SKU, filters
 * (search is a literal, case-insensitive substring of name or SKU), keyset pages ordered by the
 * field then id, both in the requested direction.
 *
 * Cursors are base64url JSON of `[sortValue, id]` (the shape MikroORM's cursors have), and the
 * page info follows MikroORM's `findByCursor`: paging forward, `hasPreviousPage` is "an `after`
 * was given"; paging backward, `hasNextPage` is "a `before` was given". A cursor that does not
 * decode to a key of this ordering is VALIDATION_FAILED. Names compare by UTF-16 code units (the
 * "C" collation), so test data should avoid names whose order depends on the collation.
 */
export class InMemoryProductRepository implements ProductRepository {
  readonly rows = new Map<string, Product>();
  /** Every findByIds call's ids, to assert what was looked up. */
  readonly lookups: string[][] = [];
  /** Every findPage call, to assert the filter a use case asked for. */
  readonly pageCalls: ProductPageCall[] = [];

  async findByIds(ids: readonly string[]): Promise<Product[]> {
    this.lookups.push([...ids]);
    return ids.flatMap((id) => {
      const product = this.rows.get(id);
      return product ? [product] : [];
    });
  }

  async findPage(filter: ProductFilter, order: ProductOrder, window: PageWindow): Promise<Result<Page<Product>, ValidationError>> {
    this.pageCalls.push({ filter, order, window });
    const sign = order.direction === 'ASC' ? 1 : -1;
    const keyOf = (product: Product): Key => [sortValueOf(product, order), product.id];
    // Positive when `a` comes after `b` in display order.
    const compare = (a: Key, b: Key): number => sign * (compareValues(a[0], b[0]) || compareValues(a[1], b[1]));
    const matching = [...this.rows.values()].filter((product) => matches(product, filter)).sort((a, b) => compare(keyOf(a), keyOf(b)));

    let items: Product[];
    let hasNextPage: boolean;
    let hasPreviousPage: boolean;
    if (window.first !== undefined) {
      let start = 0;
      if (window.after !== undefined) {
        const key = decodeCursor(window.after, order);
        if (!key) return err(invalidCursor('after'));
        start = countWhile(matching, (product) => compare(keyOf(product), key) <= 0);
      }
      items = matching.slice(start, start + window.first);
      hasNextPage = start + window.first < matching.length;
      hasPreviousPage = window.after !== undefined;
    } else {
      let end = matching.length;
      if (window.before !== undefined) {
        const key = decodeCursor(window.before, order);
        if (!key) return err(invalidCursor('before'));
        end = countWhile(matching, (product) => compare(keyOf(product), key) < 0);
      }
      const start = Math.max(0, end - window.last);
      items = matching.slice(start, end);
      hasPreviousPage = start > 0;
      hasNextPage = window.before !== undefined;
    }
    const cursorOf = (product: Product) => encodeCursor(keyOf(product));
    return ok({
      edges: items.map((node) => ({ node, cursor: cursorOf(node) })),
      pageInfo: {
        hasNextPage,
        hasPreviousPage,
        startCursor: items[0] ? cursorOf(items[0]) : null,
        endCursor: items.at(-1) ? cursorOf(items.at(-1)!) : null,
      },
      totalCount: async () => matching.length,
    });
  }

  async insert(product: Product): Promise<boolean> {
    if ([...this.rows.values()].some((existing) => existing.sku === product.sku)) return false;
    if (this.rows.has(product.id)) throw new Error(`duplicate product id ${product.id}`);
    this.rows.set(product.id, product);
    return true;
  }

  async update(id: string, changes: ProductChanges, updatedAt: Date): Promise<Product | undefined> {
    const current = this.rows.get(id);
    if (!current) return undefined;
    // Like the SQL one: only the given fields and updatedAt; never the SKU or the stock.
    const next = { ...current, ...changes, updatedAt };
    this.rows.set(id, next);
    return next;
  }

  async adjustStock(id: string, delta: number, max: number): Promise<Product | 'NOT_FOUND' | 'OUT_OF_RANGE'> {
    const current = this.rows.get(id);
    if (!current) return 'NOT_FOUND';
    const stock = current.stock + delta;
    if (stock < 0 || stock > max) return 'OUT_OF_RANGE';
    const updated = { ...current, stock, updatedAt: new Date() };
    this.rows.set(id, updated);
    return updated;
  }

  /** Stores a product directly (test set-up). SKUs default to a unique one. */
  seed(fields: Partial<Product> = {}): Product {
    const at = fields.createdAt ?? new Date('2026-01-01T00:00:00.000Z');
    const product: Product = {
      id: crypto.randomUUID(),
      sku: `SKU-${this.rows.size + 1}-${crypto.randomUUID().slice(0, 8).toUpperCase()}`,
      name: 'Test Product',
      description: '',
      priceMinor: 1_000,
      stock: 10,
      active: true,
      createdAt: at,
      updatedAt: at,
      ...fields,
    };
    this.rows.set(product.id, product);
    return product;
  }
}

function matches(product: Product, filter: ProductFilter): boolean {
  if (filter.active !== undefined && product.active !== filter.active) return false;
  if (filter.inStock !== undefined && product.stock > 0 !== filter.inStock) return false;
  if (filter.minPriceMinor !== undefined && product.priceMinor < filter.minPriceMinor) return false;
  if (filter.maxPriceMinor !== undefined && product.priceMinor > filter.maxPriceMinor) return false;
  if (filter.search) {
    const needle = filter.search.toLowerCase();
    if (!product.name.toLowerCase().includes(needle) && !product.sku.toLowerCase().includes(needle)) return false;
  }
  return true;
}

/** How many leading items satisfy `predicate` (the items are sorted, so it is a boundary index). */
function countWhile<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  const index = items.findIndex((item) => !predicate(item));
  return index < 0 ? items.length : index;
}

function encodeCursor(key: Key): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string, order: ProductOrder): Key | undefined {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) return undefined;
  const [value, id] = decoded as unknown[];
  if (typeof id !== 'string') return undefined;
  if (order.field === 'PRICE') return typeof value === 'number' && Number.isSafeInteger(value) ? [value, id] : undefined;
  if (typeof value !== 'string') return undefined;
  if (order.field === 'CREATED_AT' && Number.isNaN(Date.parse(value))) return undefined;
  return [order.field === 'CREATED_AT' ? new Date(value).toISOString() : value, id];
}

const op = (viewer: OpContext['viewer']): OpContext => ({ signal: new AbortController().signal, viewer, requestId: 't' });

/** Operation contexts for each kind of caller. */
export const ops = {
  anonymous: (): OpContext => op(anonymous),
  customer: (customerId: string = crypto.randomUUID()): OpContext => op({ kind: 'customer', customerId, role: 'CUSTOMER' }),
  admin: (customerId: string = crypto.randomUUID()): OpContext => op({ kind: 'customer', customerId, role: 'ADMIN' }),
  system: (): OpContext => systemContext('test'),
};

/** A fixed clock for `now` dependencies. */
export const clockAt = (iso: string): (() => Date) => () => new Date(iso);
