import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from './config.ts';
import { seedDemoData } from './demo/seed.ts';
import { allEntities } from './entities.ts';
import type { GraphQLContext } from './graphql/context.ts';
import { createSchema } from './graphql/schema.ts';
import { createGraphQLServer } from './graphql/server.ts';
import { migrations } from './migrations/index.ts';
import { createCatalogUseCases } from './modules/catalog/public.ts';
import { createPasswordHasher, createTokenService, createCustomersUseCases } from './modules/customers/public.ts';
import { createOrdersUseCases, EventTargetOrderEvents, type OrderEvents } from './modules/orders/public.ts';
import { createPaymentProvider, createPaymentsUseCases, type PaymentProvider } from './modules/payments/public.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './platform/db/embedded-postgres.ts';
import { createOrm, migrate } from './platform/db/orm.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import type { OpContext } from './platform/op-context.ts';

/** Replaceable parts, for tests and benchmarks; production uses the defaults. */
export interface AppOptions {
  readonly logger?: Logger;
  readonly paymentProvider?: PaymentProvider;
  /** The pub/sub transport of order events (default: in-process). */
  readonly eventTarget?: EventTarget;
  /** Sees every SQL statement (tests count them). */
  readonly onQuery?: (sql: string) => void;
}

/** A started application. */
export interface RunningApp {
  /** e.g. `http://127.0.0.1:4000/graphql` */
  readonly url: string;
  readonly port: number;
  readonly yoga: ReturnType<typeof createGraphQLServer>['yoga'];
  readonly schema: GraphQLSchema;
  readonly orm: MikroORM;
  readonly logger: Logger;
  /** Builds the same per-operation context a request gets (for scripts and tests). */
  readonly createContext: (op: OpContext) => GraphQLContext;
}

/**
 * The composition root, by hand: config in, `{ start, stop }` out. `start` opens the database
 * (the embedded PGlite unless DATABASE_URL is set), migrates, seeds demo data outside production,
 * and serves GraphQL over HTTP, SSE and WebSockets; `stop` undoes it in reverse order.
 */
export function createApp(config: Config, options: AppOptions = {}) {
  let running: (RunningApp & { close: () => Promise<void> }) | undefined;

  async function start(): Promise<RunningApp> {
    if (running) return running;
    const logger = options.logger ?? createLogger(config.logLevel);
    const cleanups: (() => Promise<void>)[] = [];
    try {
      let url = config.database.url;
      let poolMax = config.database.poolMax;
      if (!url) {
        const embedded: EmbeddedPostgres = await startEmbeddedPostgres(join(config.dataDir, 'pglite'));
        cleanups.unshift(() => embedded.stop());
        url = embedded.url;
        poolMax = embedded.maxConnections;
        logger.info({ dataDir: config.dataDir }, 'embedded PostgreSQL (PGlite) started');
      }
      const orm = await createOrm({
        url,
        poolMax,
        debug: config.database.debug,
        entities: allEntities,
        migrations,
        logger,
        ...(options.onQuery ? { onQuery: options.onQuery } : {}),
      });
      cleanups.unshift(() => orm.close());
      if (config.database.migrateOnStart) {
        const applied = await migrate(orm);
        if (applied.length > 0) logger.info({ applied }, 'migrations applied');
      }

      const tokens = await createTokenService({
        privateKeyPem: config.auth.privateKeyPem,
        dataDir: config.dataDir,
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        ttlSeconds: config.auth.ttlSeconds,
        production: config.env === 'production',
      });
      const passwords = createPasswordHasher();
      const provider = options.paymentProvider ?? createPaymentProvider(config.payments, config.currency);
      const events: OrderEvents = new EventTargetOrderEvents(options.eventTarget ?? new EventTarget());

      const createContext = (op: OpContext): GraphQLContext => {
        const em = orm.em.fork();
        const catalog = createCatalogUseCases(em);
        const customers = createCustomersUseCases(em, { passwords, tokens });
        const payments = createPaymentsUseCases(em, { provider, timeoutMs: config.payments.timeoutMs });
        const orders = createOrdersUseCases(em, {
          catalog,
          customers,
          payments,
          events,
          currency: config.currency,
          settleWaitMs: config.payments.timeoutMs + 1_000,
          logger,
        });
        return { op, catalog, customers, payments, orders };
      };

      if (config.seedDemoData) await seedDemoData(createContext, config.currency, logger);

      const schema = createSchema({ currency: config.currency });
      // Cross-cutting HTTP/GraphQL concerns, each from its own module, in the order they apply.
      const plugins: Plugin<Record<string, unknown>>[] = [];
      const { yoga, server, wss } = createGraphQLServer({
        plugins,
        schema,
        createContext,
        verifyToken: (token) => tokens.verify(token),
        graphiql: config.http.graphiql,
        logger,
      });
      server.listen(config.http.port, config.http.host);
      await once(server, 'listening');
      cleanups.unshift(async () => {
        for (const client of wss.clients) client.close(1001, 'server shutting down');
        wss.close();
        server.closeIdleConnections();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          setTimeout(() => {
            server.closeAllConnections();
            resolve();
          }, 5_000).unref();
        });
      });
      const { port } = server.address() as AddressInfo;
      const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
      const url_ = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}${yoga.graphqlEndpoint}`;
      logger.info({ url: url_, graphiql: config.http.graphiql }, 'Ordergraph is serving');
      running = {
        url: url_,
        port,
        yoga,
        schema,
        orm,
        logger,
        createContext,
        close: async () => {
          for (const cleanup of cleanups) await cleanup();
        },
      };
      return running;
    } catch (error) {
      for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      throw error;
    }
  }

  async function stop(): Promise<void> {
    const current = running;
    running = undefined;
    await current?.close();
  }

  return { start, stop };
}
