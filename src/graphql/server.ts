import { createServer, type Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from '../platform/logger.ts';
import { anonymous, type OpContext, type Viewer } from '../platform/op-context.ts';
import type { GraphQLContext } from './context.ts';
import { GraphQLError } from 'graphql';

/** What yoga receives before our context factory runs: the HTTP request, or the WebSocket's op. */
export interface ServerContext {
  readonly request?: Request;
  /** Set by the graphql-ws path, which authenticates once per socket. */
  readonly op?: OpContext;
}

/** Builds the per-operation GraphQL context (one `em.fork()`, fresh use cases and loaders). */
export type ContextFactory = (op: OpContext) => GraphQLContext;

/** Resolves a bearer token to a viewer; undefined for an invalid or expired token. */
export type VerifyToken = (token: string) => Promise<Viewer | undefined>;

export interface GraphQLServerOptions {
  readonly schema: GraphQLSchema;
  readonly createContext: ContextFactory;
  readonly verifyToken: VerifyToken;
  readonly graphiql: boolean;
  readonly logger: Logger;
  /**
   * Extra yoga/envelop plugins, in order (security limits, telemetry, metrics, extra routes such
   * as webhooks or health checks). Each concern lives in its own module and is wired in app.ts.
   */
  readonly plugins?: readonly Plugin<Record<string, unknown>>[];
}

const GRAPHIQL_DEFAULT_QUERY = `# Welcome to Ordergraph. Sign in with a demo account (see the README), then put
#   { "Authorization": "Bearer <accessToken>" }
# in the Headers pane below to place orders and follow them live.
mutation SignIn {
  signIn(input: { email: "premium@ordergraph.dev", password: "demo-pass-premium" }) {
    __typename
    ... on SignInSuccess { auth { accessToken expiresAt customer { name tier } } }
    ... on Error { code message }
  }
}

query Products {
  products(first: 10, filter: { inStock: true }) {
    totalCount
    edges { node { id sku name price { amount currency } stock } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** `Bearer <token>` → token; undefined when absent or malformed. */
function bearer(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(value.trim());
  return match?.[1];
}

const unauthenticated = () =>
  new GraphQLError('The access token is invalid or expired; sign in again', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });

/**
 * Creates yoga (HTTP, SSE subscriptions and GraphiQL on /graphql) and, on the same port and path,
 * a graphql-ws server whose subscriptions run through yoga's envelop pipeline with the same
 * context. Authentication: `Authorization: Bearer <token>` over HTTP; over graphql-ws
 * `connectionParams.authorization`, checked once at connection init (close 4403 when invalid).
 */
export function createGraphQLServer(options: GraphQLServerOptions): { yoga: YogaServerInstance<ServerContext, GraphQLContext>; server: Server; wss: WebSocketServer } {
  const { logger } = options;
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // GraphiQL's assets are served from node_modules (works offline). Its subscriptions use SSE, so
    // the Headers pane's Authorization header reaches the server as for any request.
    graphiql: options.graphiql ? { title: 'Ordergraph', defaultQuery: GRAPHIQL_DEFAULT_QUERY } : false,
    renderGraphiQL,
    // Unexpected errors become "Unexpected error." with no stack; typed GraphQLErrors pass through.
    maskedErrors: { isDev: false },
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      error: (...args) => logger.error({ args }, 'yoga'),
    },
    plugins: [...(options.plugins ?? [])] as Plugin<ServerContext & GraphQLContext>[],
    context: async (initial): Promise<GraphQLContext> => {
      if (initial.op) return options.createContext(initial.op);
      const request = initial.request!;
      const header = request.headers.get('authorization');
      let viewer: Viewer = anonymous;
      if (header) {
        const token = bearer(header);
        const verified = token ? await options.verifyToken(token) : undefined;
        if (!verified) throw unauthenticated();
        viewer = verified;
      }
      const given = request.headers.get('x-request-id');
      const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
      return options.createContext({ signal: request.signal, viewer, requestId });
    },
  });

  const server = createServer(yoga);
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  const viewers = new WeakMap<object, Viewer>();
  const subscriptions = new WeakMap<object, Map<string, AbortController>>();

  useServer<Record<string, unknown> | undefined, { socket: object }>(
    {
      execute: (args) => (args.rootValue as { execute: (a: unknown) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: unknown) => unknown }).subscribe(args) as never,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (raw === undefined) {
          viewers.set(ctx.extra.socket, anonymous);
          return true;
        }
        const token = bearer(raw);
        const viewer = token ? await options.verifyToken(token) : undefined;
        if (!viewer) return false;
        viewers.set(ctx.extra.socket, viewer);
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const controller = new AbortController();
        let perSocket = subscriptions.get(ctx.extra.socket);
        if (!perSocket) subscriptions.set(ctx.extra.socket, (perSocket = new Map()));
        perSocket.set(id, controller);
        const op: OpContext = { signal: controller.signal, viewer: viewers.get(ctx.extra.socket) ?? anonymous, requestId: crypto.randomUUID() };
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ op, params: payload });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('Syntax error')];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
      onComplete: (ctx, id) => {
        const perSocket = subscriptions.get(ctx.extra.socket);
        perSocket?.get(id)?.abort();
        perSocket?.delete(id);
      },
      onClose: (ctx) => {
        for (const controller of subscriptions.get(ctx.extra.socket)?.values() ?? []) controller.abort();
        subscriptions.delete(ctx.extra.socket);
      },
    },
    wss,
  );

  return { yoga, server, wss };
}
