import { DEMO_ACCOUNTS } from '../../../src/demo/seed.ts';
import type { Cluster } from './cluster.ts';

// The writers of the chaos run: customers placing orders and cancelling some, an admin shipping and
// delivering them, all through GraphQL over HTTP to whichever instance the "load balancer" picks.
// They only make committed changes; what was committed is read from the database at the end, so a
// mutation whose answer was lost (its instance SIGKILLed mid-request) needs no bookkeeping here.

const SIGN_IN = 'mutation SignIn($input: SignInInput!) { signIn(input: $input) { __typename ... on SignInSuccess { auth { accessToken } } } }';
const SIGN_UP =
  'mutation SignUp($input: SignUpInput!) { signUp(input: $input) { __typename ... on Error { code message } ... on SignUpSuccess { auth { accessToken customer { id } } } } }';
const PRODUCTS = 'query Products($first: Int) { products(first: $first, filter: { inStock: true }) { edges { node { id price { amount } stock } } } }';
const PLACE_ORDER =
  'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ... on Error { code message } ... on OutOfStockError { product { id } } ... on PlaceOrderSuccess { order { id status version } } ... on PaymentDeclinedError { order { id status version } } } }';
const UPDATE_STATUS =
  'mutation UpdateOrderStatus($input: UpdateOrderStatusInput!) { updateOrderStatus(input: $input) { __typename ... on Error { code message } ... on UpdateOrderStatusSuccess { order { id status version } } } }';
const CANCEL_ORDER =
  'mutation CancelOrder($input: CancelOrderInput!) { cancelOrder(input: $input) { __typename ... on Error { code message } ... on CancelOrderSuccess { order { id status version } } } }';
const ORDER = 'query Order($id: ID!) { order(id: $id) { id status version } }';

/** A signed-in account: its token, and its customer id (UUID) once known. */
export interface Account {
  readonly token: string;
  readonly customerId: string;
}

/** An order the writers move on: its global id, owner, and the status and version last seen. */
export interface OrderTask {
  readonly orderId: string;
  readonly owner: Account;
  status: string;
  version: number;
}

interface GraphQLBody {
  data?: Record<string, any>;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** What went wrong for the writers (answers they did not expect); reported, and a run with any fails. */
export interface WriterProblems {
  readonly unexpected: string[];
  /** Requests that failed at the transport (their instance was killed, or not yet up): retried. */
  transportRetries: number;
}

/**
 * POSTs an operation to the instance the cluster picks; a transport failure (connection refused or
 * reset by a killed instance) or a 5xx is retried on the next one, so the caller gets an answer.
 * A mutation retried this way may have committed the first time: every mutation here is safe to
 * repeat (placeOrder by its idempotency key, status changes by their expected version).
 */
export async function post(cluster: Cluster, query: string, variables: Record<string, unknown>, token: string | undefined, problems: WriterProblems): Promise<GraphQLBody> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const instance = cluster.pick();
    try {
      const response = await fetch(instance.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(15_000),
      });
      if (response.status >= 500) throw new Error(`HTTP ${response.status} from instance ${instance.index}: ${await response.text()}`);
      return (await response.json()) as GraphQLBody;
    } catch (error) {
      lastError = error;
      problems.transportRetries += 1;
      await new Promise((resolve) => setTimeout(resolve, 50 + attempt * 25));
    }
  }
  throw new Error(`no instance answered after 40 attempts: ${String(lastError)}`);
}

/** Signs in the demo admin. */
export async function adminAccount(cluster: Cluster, problems: WriterProblems): Promise<Account> {
  const admin = DEMO_ACCOUNTS.find((a) => a.role === 'ADMIN')!;
  const body = await post(cluster, SIGN_IN, { input: { email: admin.email, password: admin.password } }, undefined, problems);
  const token = body.data?.signIn?.auth?.accessToken as string | undefined;
  if (!token) throw new Error(`admin sign-in failed: ${JSON.stringify(body)}`);
  return { token, customerId: '' };
}

/** Signs up `count` new customers (one run's own, so "their orders" are exactly the run's). */
export async function signUpCustomers(cluster: Cluster, count: number, problems: WriterProblems): Promise<Account[]> {
  const run = crypto.randomUUID().slice(0, 8);
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const input = { email: `chaos-${run}-${i}@example.test`, name: `Chaos ${i}`, password: `chaos-pass-${run}-${i}` };
      const body = await post(cluster, SIGN_UP, { input }, undefined, problems);
      const auth = body.data?.signUp?.auth as { accessToken: string; customer: { id: string } } | undefined;
      if (!auth) throw new Error(`sign-up failed: ${JSON.stringify(body)}`);
      return { token: auth.accessToken, customerId: uuidOf(auth.customer.id) };
    }),
  );
}

/** The UUID inside a Relay global id (base64 of `Type:uuid`). */
export function uuidOf(globalId: string): string {
  return Buffer.from(globalId, 'base64').toString('utf8').split(':')[1] ?? globalId;
}

/** Global ids of the in-stock products priced at most `maxPrice` (declines above 1,000 end an order early). */
export async function cheapProducts(cluster: Cluster, problems: WriterProblems, maxPrice = 100): Promise<string[]> {
  const body = await post(cluster, PRODUCTS, { first: 50 }, undefined, problems);
  const edges = (body.data?.products?.edges ?? []) as { node: { id: string; price: { amount: string }; stock: number } }[];
  return edges.filter((e) => Number(e.node.price.amount) <= maxPrice && e.node.stock >= 20).map((e) => e.node.id);
}

/**
 * The writers: `place` places one order for a customer (retrying its idempotency key until an
 * answer comes), `advance` moves an order one step (PAID → SHIPPED, 1 in 10 cancelled by its
 * customer instead; SHIPPED → DELIVERED) and says whether it can move again.
 */
export function createWriters(cluster: Cluster, admin: Account, products: readonly string[], problems: WriterProblems) {
  let nextProduct = 0;

  const place = async (owner: Account): Promise<OrderTask | undefined> => {
    for (let tries = 0; tries < products.length; tries += 1) {
      const productId = products[nextProduct++ % products.length]!;
      const input = { idempotencyKey: crypto.randomUUID(), lines: [{ productId, quantity: 1 }] };
      const body = await post(cluster, PLACE_ORDER, { input }, owner.token, problems);
      const result = body.data?.placeOrder as { __typename: string; code?: string; order?: { id: string; status: string; version: number } } | undefined;
      if (result?.__typename === 'OutOfStockError') continue;
      if (result?.order && result.__typename === 'PlaceOrderSuccess') return { orderId: result.order.id, owner, status: result.order.status, version: result.order.version };
      // A decline or a payment left PENDING (its instance died mid-charge: the reconciler settles it)
      // is a committed change all the same; this order just is not moved on by the writers.
      if (result?.order) return undefined;
      problems.unexpected.push(`placeOrder: ${JSON.stringify(body).slice(0, 300)}`);
      return undefined;
    }
    problems.unexpected.push('placeOrder: every cheap product out of stock');
    return undefined;
  };

  const refresh = async (task: OrderTask): Promise<void> => {
    const body = await post(cluster, ORDER, { id: task.orderId }, admin.token, problems);
    const order = body.data?.order as { status: string; version: number } | undefined;
    if (!order) throw new Error(`order ${task.orderId} not readable: ${JSON.stringify(body)}`);
    task.status = order.status;
    task.version = order.version;
  };

  const advance = async (task: OrderTask): Promise<boolean> => {
    if (task.status !== 'PAID' && task.status !== 'SHIPPED') return false;
    const cancel = task.status === 'PAID' && Math.random() < 0.1;
    const body = cancel
      ? await post(cluster, CANCEL_ORDER, { input: { orderId: task.orderId, expectedVersion: task.version } }, task.owner.token, problems)
      : await post(cluster, UPDATE_STATUS, { input: { orderId: task.orderId, status: task.status === 'PAID' ? 'SHIPPED' : 'DELIVERED', expectedVersion: task.version } }, admin.token, problems);
    const result = (body.data?.cancelOrder ?? body.data?.updateOrderStatus) as { __typename: string; code?: string; order?: { status: string; version: number } } | undefined;
    if (result?.order) {
      task.status = result.order.status;
      task.version = result.order.version;
    } else if (result?.code === 'VERSION_CONFLICT' || result?.code === 'ILLEGAL_TRANSITION') {
      // The first attempt committed and its answer was lost with its instance: read where it is.
      await refresh(task);
    } else {
      problems.unexpected.push(`${cancel ? 'cancelOrder' : 'updateOrderStatus'}: ${JSON.stringify(body).slice(0, 300)}`);
      return false;
    }
    return task.status === 'PAID' || task.status === 'SHIPPED';
  };

  return { place, advance };
}
