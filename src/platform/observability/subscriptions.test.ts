import { GraphQLError } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useSubscriptionLifecycle } from './subscriptions.ts';

/** A yoga server with two subscriptions and the lifecycle plugin, recording what it reports. */
function setUp() {
  const shutdown = new AbortController();
  let started: () => void = () => {};
  const streamStarted = new Promise<void>((resolve) => (started = resolve));
  const reported = { deltas: [] as number[], errors: [] as { operation: string | undefined; codes: unknown[] }[], released: [] as object[], contexts: [] as object[] };
  const schema = createSchema({
    typeDefs: 'type Query { ok: Boolean } type Subscription { ticks(failOn: Int): Int refused: Int parked: Int }',
    resolvers: {
      Subscription: {
        ticks: {
          subscribe: async function* (_root: unknown, _args: unknown, context: object) {
            reported.contexts.push(context);
            yield { ticks: 1 };
            yield { ticks: 2 };
          },
          resolve: (event: { ticks: number }, args: { failOn?: number }) => {
            if (event.ticks === args.failOn) throw new GraphQLError('tick refused', { extensions: { code: 'TICK_REFUSED' } });
            return event.ticks;
          },
        },
        // Parked in an await that never settles: only the lifecycle can end it.
        parked: {
          subscribe: async function* () {
            await new Promise(() => {});
            yield { parked: 1 };
          },
        },
        refused: {
          subscribe: () => {
            throw new GraphQLError('not for you', { extensions: { code: 'FORBIDDEN' } });
          },
        },
      },
    },
  });
  const yoga = createYoga({
    schema,
    logging: false,
    plugins: [
      useSubscriptionLifecycle({
        shutdown: shutdown.signal,
        onDelta: (delta) => {
          reported.deltas.push(delta);
          if (delta === 1) started();
        },
        onErrors: (operation, errors) => reported.errors.push({ operation: operation.operationName ?? undefined, codes: errors.map((e) => e.extensions?.code) }),
        release: (context) => reported.released.push(context),
      }),
    ],
  });
  /** Runs a subscription over SSE to its end; the events' JSON payloads. */
  const subscribe = async (query: string, operationName: string) => {
    const response = await yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, operationName }),
    });
    const body = await response.text();
    return body
      .split('\n')
      .filter((line) => line.startsWith('data: ') && line.length > 'data: '.length)
      .map((line) => JSON.parse(line.slice('data: '.length)) as { data?: unknown; errors?: unknown[] });
  };
  return { reported, subscribe, shutdown, streamStarted };
}

describe('subscription lifecycle', () => {
  it('reports a stream from start to end and releases its context once the stream is set up', async () => {
    const { reported, subscribe } = setUp();

    const events = await subscribe('subscription Ticks { ticks }', 'Ticks');

    expect(events.map((e) => e.data)).toEqual([{ ticks: 1 }, { ticks: 2 }]);
    expect(reported.deltas).toEqual([1, -1]);
    // The context the subscription's resolver was given.
    expect(reported.released).toHaveLength(1);
    expect(reported.released[0]).toBe(reported.contexts[0]);
    expect(reported.errors).toEqual([]);
  });

  it('reports the errors of each event its subscriber gets', async () => {
    const { reported, subscribe } = setUp();

    const events = await subscribe('subscription Ticks { ticks(failOn: 2) }', 'Ticks');

    expect(events).toHaveLength(2);
    expect(events[1]!.errors).toHaveLength(1);
    expect(reported.errors).toEqual([{ operation: 'Ticks', codes: ['TICK_REFUSED'] }]);
  });

  it('reports the errors of a refused subscription, and has no stream to count or context to release', async () => {
    const { reported, subscribe } = setUp();

    const events = await subscribe('subscription Refused { refused }', 'Refused');

    expect(events[0]!.errors).toHaveLength(1);
    expect(reported.errors).toEqual([{ operation: 'Refused', codes: ['FORBIDDEN'] }]);
    expect(reported.deltas).toEqual([]);
    expect(reported.released).toEqual([]);
  });

  it('ends a stream parked in an await when shutdown begins', async () => {
    const { reported, subscribe, shutdown, streamStarted } = setUp();

    const events = subscribe('subscription Parked { parked }', 'Parked');
    await streamStarted;
    shutdown.abort();

    expect(await events).toEqual([]);
    expect(reported.deltas).toEqual([1, -1]);
  });
});
