import type { MikroORM } from '@mikro-orm/postgresql';
import type { GraphQLSchema } from 'graphql';
import type { DestinationStream } from 'pino';
import type { GraphQLContext } from '../graphql/context.ts';
import type { createGraphQLServer } from '../graphql/server.ts';
import type { PaymentProvider } from '../modules/payments/public.ts';
import type { Logger } from '../platform/logger.ts';
import type { OpContext } from '../platform/op-context.ts';

/** Replaceable parts, for tests and benchmarks; production uses the defaults. */
export interface AppOptions {
  readonly logger?: Logger;
  readonly paymentProvider?: PaymentProvider;
  /**
   * The order log's doorbell as an in-process EventTarget, which apps in one process share to ring
   * each other (default: Redis with REDIS_URL, else PostgreSQL NOTIFY with DATABASE_URL, else this
   * process only). Events themselves always travel through the log (ADR 0012).
   */
  readonly eventTarget?: EventTarget;
  /** Sees every SQL statement (tests count them). */
  readonly onQuery?: (sql: string) => void;
  /** Where the app's own logger writes its JSON lines, with the request correlation fields (default stdout; tests read them). */
  readonly logDestination?: DestinationStream;
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
  /** Builds the same per-operation scope a request gets (for scripts and tests). */
  readonly createContext: (op: OpContext) => GraphQLContext;
}
