// The three request shapes of issue #6, as the GraphQL documents every contestant is sent, plus the
// encodings every contestant must reproduce byte for byte (Relay global ids, keyset cursors, money).

/** S1: one order by id, scalars only (and its total as Money). */
export const S1 = `query S1($id: ID!) {
  order(id: $id) { id number status version discountPercent subtotal { amount currency } total { amount currency } createdAt updatedAt }
}`;

/**
 * S2: a page of 50 orders with each order's payment status, its lines → product and its customer
 * (admin viewer, after a cursor drawn at random per request, so pages all over the table are read).
 */
export const S2 = `query S2($after: String) {
  orders(first: 50, after: $after) {
    edges {
      node {
        id number status createdAt total { amount currency }
        payment { status }
        customer { id name email tier }
        lines { productName quantity unitPrice { amount } lineTotal { amount } product { id sku name price { amount } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** S3: place an order of 3 lines as a signed-in customer. */
export const S3 = `mutation S3($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on PlaceOrderSuccess {
      order {
        id number status version discountPercent subtotal { amount currency } discount { amount } total { amount } createdAt
        lines { productName quantity unitPrice { amount } lineTotal { amount } product { id sku } }
      }
    }
    ... on Error { code message }
  }
}`;

export type ShapeName = 'S1' | 'S2' | 'S3';
export const DOCUMENTS: Record<ShapeName, string> = { S1, S2, S3 };

/**
 * Fields of a response that legitimately differ between contestants, by shape. S1 and S2 read the
 * same rows, so nothing may differ. S3 creates a new order per call: its UUID is random, its
 * `number` comes from the identity sequence (each call takes the next one), and `createdAt` is the
 * clock at the call; every other value (status, version, prices, discount, lines, products) is
 * determined by the input and the data and must be equal.
 */
export const EXCLUDED_FIELDS: Record<ShapeName, readonly string[]> = {
  S1: [],
  S2: [],
  S3: ['data.placeOrder.order.id', 'data.placeOrder.order.number', 'data.placeOrder.order.createdAt'],
};

/** Relay global id as Pothos encodes it: base64 of `Type:id` (standard alphabet, padded). */
export const globalId = (type: string, id: string): string => Buffer.from(`${type}:${id}`).toString('base64');

/** The UUID inside a global id of `type`, or undefined. */
export function parseGlobalId(value: unknown, type: string): string | undefined {
  if (typeof value !== 'string' || value.length > 200) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const prefix = `${type}:`;
  if (!decoded.startsWith(prefix)) return undefined;
  const id = decoded.slice(prefix.length).toLowerCase();
  return UUID.test(id) ? id : undefined;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A keyset cursor over (createdAt DESC, id DESC) as MikroORM encodes it: base64url of `[iso, id]`. */
export const encodeCursor = (createdAt: Date, id: string): string => Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');

/** The (createdAt, id) inside a cursor, or undefined when malformed. */
export function decodeCursor(cursor: unknown): { createdAt: string; id: string } | undefined {
  if (typeof cursor !== 'string' || cursor.length > 1024) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || typeof value[1] !== 'string' || !UUID.test(value[1])) return undefined;
    if (Number.isNaN(Date.parse(value[0]))) return undefined;
    return { createdAt: value[0], id: value[1] };
  } catch {
    return undefined;
  }
}

/** Integer minor units of USD → exact decimal string, as Ordergraph's Money.amount. */
export function formatMinor(minor: number): string {
  const digits = Math.abs(minor).toString().padStart(3, '0');
  return `${minor < 0 ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** Tier discounts, as in the customers domain. */
export const TIER_DISCOUNT: Record<string, number> = { BASIC: 0, PREMIUM: 10, ENTERPRISE: 20 };

/** The simulated payment provider declines totals above this (PAYMENT_SIMULATED_DECLINE_ABOVE, 1000.00). */
export const DECLINE_ABOVE_MINOR = 100_000;
