import { eventually } from './eventually.ts';

/**
 * The active-subscriptions gauge of the app serving `url` (its /metrics, Prometheus text), NaN when
 * absent. It counts a subscription once its stream exists, i.e. once the server listens for its
 * events (the orders stream subscribes before it returns), so a publish after it is not missed.
 */
export async function activeSubscriptions(url: string | URL): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return Number(/^ordergraph_graphql_active_subscriptions (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/**
 * Waits (at most `timeoutMs`, default 10 s) until the app serving `url` has exactly `count` active
 * subscriptions; gives up at once when `signal` aborts (e.g. the server process exited).
 */
export async function untilActiveSubscriptions(url: string | URL, count: number, options: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {}): Promise<void> {
  await eventually(async () => (await activeSubscriptions(url)) === count, { ...options, what: `${count} active subscriptions` });
}
