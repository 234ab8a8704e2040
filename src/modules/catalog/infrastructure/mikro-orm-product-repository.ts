import { UniqueConstraintViolationException, type EntityManager, type FilterQuery, type InferEntity, type QueryOrderMap } from '@mikro-orm/postgresql';
import { findPage } from '../../../platform/db/find-page.ts';
import type { Product } from '../domain/product.ts';
import type { ProductChanges, ProductFilter, ProductOrder, ProductRepository, StockLine, StockReservations } from '../application/ports.ts';
import { ProductRecord } from './product.entity.ts';

type Row = InferEntity<typeof ProductRecord>;

const toProduct = (row: Row): Product => ({
  id: row.id,
  sku: row.sku,
  name: row.name,
  description: row.description,
  priceMinor: row.priceMinor,
  stock: row.stock,
  active: row.active,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const orderColumn = { NAME: 'name', PRICE: 'priceMinor', CREATED_AT: 'createdAt' } as const;

/** {@link ProductRepository} on MikroORM; reads bypass the identity map and return plain products. */
export class MikroOrmProductRepository implements ProductRepository {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async findByIds(ids: readonly string[]): Promise<Product[]> {
    if (ids.length === 0) return [];
    // Every order line's product comes through here: a raw statement, since MikroORM builds an
    // entity per row even with the identity map off (~20 µs a row, issue #6).
    const rows = await this.#em.getConnection().execute<Row[]>(
      `select id, sku, name, description, price_minor as "priceMinor", stock, active, created_at as "createdAt", updated_at as "updatedAt"
         from catalog_products where id in (?)`,
      [[...ids]],
      'all',
      this.#em.getTransactionContext(),
    );
    return rows.map((row) => toProduct({ ...row, priceMinor: Number(row.priceMinor), createdAt: new Date(row.createdAt), updatedAt: new Date(row.updatedAt) }));
  }

  findPage(filter: ProductFilter, order: ProductOrder, window: Parameters<ProductRepository['findPage']>[2]) {
    const where: FilterQuery<Row> = {};
    if (filter.active !== undefined) where.active = filter.active;
    if (filter.inStock !== undefined) where.stock = filter.inStock ? { $gt: 0 } : 0;
    if (filter.minPriceMinor !== undefined || filter.maxPriceMinor !== undefined) {
      where.priceMinor = {
        ...(filter.minPriceMinor !== undefined ? { $gte: filter.minPriceMinor } : {}),
        ...(filter.maxPriceMinor !== undefined ? { $lte: filter.maxPriceMinor } : {}),
      };
    }
    if (filter.search) {
      const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.$or = [{ name: { $ilike: pattern } }, { sku: { $ilike: pattern } }];
    }
    const direction = order.direction === 'ASC' ? 'asc' : 'desc';
    const orderBy = [{ [orderColumn[order.field]]: direction }, { id: direction }] as QueryOrderMap<Row>[];
    return findPage(this.#em, ProductRecord, { where, orderBy, window, map: toProduct });
  }

  async insert(product: Product): Promise<boolean> {
    try {
      await this.#em.insert(ProductRecord, { ...product });
      return true;
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) return false;
      throw error;
    }
  }

  async update(id: string, changes: ProductChanges, updatedAt: Date): Promise<Product | undefined> {
    const changed = await this.#em.nativeUpdate(ProductRecord, { id }, { ...changes, updatedAt });
    if (changed === 0) return undefined;
    const [product] = await this.findByIds([id]);
    return product;
  }

  async adjustStock(id: string, delta: number, max: number): Promise<Product | 'NOT_FOUND' | 'OUT_OF_RANGE'> {
    const rows = await this.#em.getConnection().execute<Row[]>(
      `update catalog_products set stock = stock + ?, updated_at = now()
        where id = ? and stock + ? between 0 and ?
        returning id, sku, name, description, price_minor as "priceMinor", stock, active, created_at as "createdAt", updated_at as "updatedAt"`,
      [delta, id, delta, max],
    );
    const row = rows[0];
    if (row) return toProduct({ ...row, priceMinor: Number(row.priceMinor), createdAt: new Date(row.createdAt), updatedAt: new Date(row.updatedAt) });
    const exists = await this.#em.count(ProductRecord, { id });
    return exists > 0 ? 'OUT_OF_RANGE' : 'NOT_FOUND';
  }
}

/**
 * {@link StockReservations} as conditional UPDATEs: `stock >= quantity` in the WHERE clause makes
 * each decrement atomic under concurrency (the row lock serialises competitors, and the loser sees
 * the new stock). Rows are locked in product-id order so concurrent orders cannot deadlock.
 * Must run inside the caller's transaction, which the caller rolls back when a line fails.
 */
export class SqlStockReservations implements StockReservations {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async reserve(lines: readonly StockLine[]): Promise<string | undefined> {
    if (lines.length === 0) return undefined;
    // One row per product (an update joins each target row once).
    const merged = new Map<string, number>();
    for (const line of lines) merged.set(line.productId, (merged.get(line.productId) ?? 0) + line.quantity);
    const sorted = [...merged].map(([productId, quantity]) => ({ productId, quantity })).sort((a, b) => a.productId.localeCompare(b.productId));
    // One statement for every line (issue 6: an order was one round trip per line). The CTE locks
    // the rows in product-id order first, as the former one-update-per-line loop did, so
    // concurrent orders cannot deadlock; the update then decrements only lines with enough stock.
    // FOR NO KEY UPDATE is the lock the update itself takes: FOR UPDATE would conflict with the
    // KEY SHARE locks that order_lines' foreign key takes on the same products (a deadlock).
    const rows = await this.#em.getConnection().execute<{ id: string }[]>(
      `with wanted (id, quantity) as (values ${sorted.map(() => '(?::uuid, ?::int)').join(', ')}),
            locked as (select p.id from catalog_products p where p.id in (select id from wanted) order by p.id for no key update)
       update catalog_products p set stock = p.stock - w.quantity, updated_at = now()
         from wanted w
        where p.id = w.id and p.id in (select id from locked) and p.active and p.stock >= w.quantity
       returning p.id`,
      sorted.flatMap((line) => [line.productId, line.quantity]),
      'all',
      this.#em.getTransactionContext(),
    );
    if (rows.length === sorted.length) return undefined;
    const reserved = new Set(rows.map((row) => row.id));
    return sorted.find((line) => !reserved.has(line.productId))!.productId;
  }

  async release(lines: readonly StockLine[]): Promise<void> {
    for (const line of [...lines].sort((a, b) => a.productId.localeCompare(b.productId))) {
      await this.#em
        .getConnection()
        .execute(
          'update catalog_products set stock = stock + ?, updated_at = now() where id = ?',
          [line.quantity, line.productId],
          'all',
          this.#em.getTransactionContext(),
        );
    }
  }
}
