import { raw, UniqueConstraintViolationException, wrap, type EntityManager, type FilterQuery, type InferEntity } from '@mikro-orm/postgresql';
import { preparedSelect, slot } from '../../../platform/db/compiled-select.ts';
import { findPage } from '../../../platform/db/find-page.ts';
import type { Product } from '../domain/product.ts';
import { execute, perOrm, sqlNames } from '../../../platform/db/sql-parts.ts';
import type { ProductChanges, ProductFilter, ProductOrder, ProductRepository, StockLine, StockReservations, StockReserved } from '../application/ports.ts';
import { ProductRecord } from './product.entity.ts';

type Row = InferEntity<typeof ProductRecord>;

// Reads are statements MikroORM's QueryBuilder builds once (compiled-select.ts): the entity's
// property names and types are the domain's, so its plain rows are products as they come (every
// order line's product comes through findByIds; no entity per row, ADR 0011).
const productsByIds = preparedSelect(ProductRecord, (qb) => qb.select('*').where({ id: { $in: [slot('ids')] } }));

const orderKey: Record<ProductOrder['field'], keyof Row & string> = { NAME: 'name', PRICE: 'priceMinor', CREATED_AT: 'createdAt' };

/** A managed product as the domain's plain value. */
const plainProduct = (product: Row): Product => wrap(product).toObject() as Product;

/**
 * {@link ProductRepository} on MikroORM: plain-object reads; admin edits in its unit of work (a
 * product loaded, changed and flushed in one transaction: the UPDATE carries only the properties
 * that changed, so concurrent edits of different fields both survive); the stock adjustment a
 * single conditional UPDATE (its range check is a concurrency rule).
 */
export class MikroOrmProductRepository implements ProductRepository {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async findByIds(ids: readonly string[]): Promise<Product[]> {
    if (ids.length === 0) return [];
    return productsByIds.all(this.#em, { ids });
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
    return findPage(this.#em, ProductRecord, { where, orderBy: [[orderKey[order.field], direction], ['id', direction]], window });
  }

  async insert(product: Product): Promise<boolean> {
    try {
      await this.#em.transactional((em) => {
        em.create(ProductRecord, { ...product });
      });
      return true;
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) return false;
      throw error;
    }
  }

  update(id: string, changes: ProductChanges, updatedAt: Date): Promise<Product | undefined> {
    return this.#em.transactional(async (em) => {
      const product = await em.findOne(ProductRecord, { id });
      if (!product) return undefined;
      em.assign(product, { ...changes, updatedAt });
      await em.flush();
      return plainProduct(product);
    });
  }

  async adjustStock(id: string, delta: number, max: number): Promise<Product | 'NOT_FOUND' | 'OUT_OF_RANGE'> {
    const [product] = await this.#em
      .createQueryBuilder(ProductRecord)
      .update({ stock: raw('stock + ?', [delta]), updatedAt: raw('now()') })
      .where({ id, [raw('stock + ?', [delta])]: { $gte: 0, $lte: max } })
      .returning('*')
      .execute<Product[]>('all');
    if (product) return product;
    const exists = await this.#em.count(ProductRecord, { id });
    return exists > 0 ? 'OUT_OF_RANGE' : 'NOT_FOUND';
  }
}

/** A product's stock after a reservation, as the reserving statement returns it. */
type LevelRow = { id: string; stock: number; updated_at: Date | string };

/**
 * The stock statements, built once per ORM with the table and column names of the entity metadata.
 * Both lock the rows first, in product-id order, so concurrent orders cannot deadlock; FOR NO KEY
 * UPDATE is the lock the update itself takes: FOR UPDATE would conflict with the KEY SHARE locks
 * that order_lines' foreign key takes on the same products (a deadlock).
 */
const stockStatements = perOrm((em) => {
  const { table, column } = sqlNames(em, ProductRecord);
  const [id, stock, active, updatedAt] = [column('id'), column('stock'), column('active'), column('updatedAt')];
  const statement = (change: string, condition: string, returning: string) => (lines: number) =>
    `with wanted (id, quantity) as (values ${Array.from({ length: lines }, () => '(?::uuid, ?::int)').join(', ')}),
          locked as (select p.${id} from ${table} p where p.${id} in (select id from wanted) order by p.${id} for no key update)
     update ${table} p set ${stock} = p.${stock} ${change} w.quantity, ${updatedAt} = now()
       from wanted w
      where p.${id} = w.id and p.${id} in (select ${id} from locked)${condition}
     returning ${returning}`;
  return {
    reserve: statement('-', ` and p.${active} and p.${stock} >= w.quantity`, `p.${id} as id, p.${stock} as stock, p.${updatedAt} as updated_at`),
    release: statement('+', '', `p.${id} as id`),
  };
});

/** One row per product, in product-id order (an update joins each target row once). */
function mergeLines(lines: readonly StockLine[]): StockLine[] {
  const merged = new Map<string, number>();
  for (const line of lines) merged.set(line.productId, (merged.get(line.productId) ?? 0) + line.quantity);
  return [...merged].map(([productId, quantity]) => ({ productId, quantity })).sort((a, b) => a.productId.localeCompare(b.productId));
}

/**
 * {@link StockReservations} as conditional UPDATEs: `stock >= quantity` in the WHERE clause makes
 * each decrement atomic under concurrency (the row lock serialises competitors, and the loser sees
 * the new stock). Rows are locked in product-id order so concurrent orders cannot deadlock.
 * Must run inside the caller's transaction, which the caller rolls back when a line fails.
 * Hand-written SQL (ADR 0011): the lock order and the conditional decrement of every line in one
 * statement are concurrency rules MikroORM's QueryBuilder cannot express.
 */
export class SqlStockReservations implements StockReservations {
  readonly #em: EntityManager;
  constructor(em: EntityManager) {
    this.#em = em;
  }

  async reserve(lines: readonly StockLine[]): Promise<string | undefined> {
    const reserved = await this.reserveWithLevels(lines);
    return 'short' in reserved ? reserved.short : undefined;
  }

  async reserveWithLevels(lines: readonly StockLine[]): Promise<StockReserved> {
    if (lines.length === 0) return { levels: [] };
    const sorted = mergeLines(lines);
    // One statement for every line (issue 6: an order was one round trip per line).
    const sql = stockStatements(this.#em).reserve(sorted.length);
    const rows = await execute<LevelRow>(this.#em, { sql, params: sorted.flatMap((line) => [line.productId, line.quantity]) });
    const reserved = new Set(rows.map((row) => row.id));
    const short = sorted.find((line) => !reserved.has(line.productId));
    if (short) return { short: short.productId };
    return { levels: rows.map((row) => ({ productId: row.id, stock: Number(row.stock), updatedAt: new Date(row.updated_at) })) };
  }

  async release(lines: readonly StockLine[]): Promise<void> {
    if (lines.length === 0) return;
    const sorted = mergeLines(lines);
    const sql = stockStatements(this.#em).release(sorted.length);
    await execute(this.#em, { sql, params: sorted.flatMap((line) => [line.productId, line.quantity]) });
  }
}
