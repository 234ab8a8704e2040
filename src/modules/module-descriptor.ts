import type { EntityManager, EntitySchema } from '@mikro-orm/postgresql';
import type { Builder } from '../graphql/builder.ts';
import type { CommonRefs } from '../graphql/common.ts';
import type { NamedMigration } from '../platform/db/orm.ts';
import type { Logger } from '../platform/logger.ts';
import type { MetricSources } from '../platform/observability/metrics.ts';
import type { OpContext } from '../platform/op-context.ts';
import type { RequestScope, ScopedModule } from '../platform/request-scope.ts';
import type { BackgroundWorker } from '../platform/worker-pool.ts';

/**
 * GraphQL refs offered so far while the schema is built: the shared types under `common`, then
 * each registered module's refs under its name (a module reads the refs of the modules it points
 * at, which the composition root registers before it).
 */
export interface GraphQLRefs {
  readonly common: CommonRefs;
  readonly [module: string]: unknown;
}

/** What a module's background workers and start-up hook get from the running application. */
export interface ModuleRuntime {
  /** A fresh fork of the process-wide EntityManager (one per unit of work). */
  readonly fork: () => EntityManager;
  /** A scope for background work (a system operation, no caller). */
  readonly scopeFor: (op: OpContext) => RequestScope;
  /** A module's API, decorated as requests get it, in a fresh scope for `op`. */
  readonly apiFor: <Api>(module: string, op: OpContext) => Api;
  readonly logger: Logger;
}

/**
 * A module as the composition root (src/app.ts) assembles it: a plain object, built by the
 * module's `create<Name>Module(deps)` from the narrow APIs of the modules it uses (ADR 0010).
 * Building one has no side effects (the schema printer builds them without a database);
 * `start` and `workers` run only in a started application.
 */
export interface ModuleDescriptor<Name extends string, Api> extends ScopedModule<Name, Api> {
  // biome-ignore lint: entity schemas are heterogeneous by nature
  readonly entities: readonly EntitySchema<any, any>[];
  /** Its migrations; the composition root runs every module's in name (timestamp) order. */
  readonly migrations: readonly NamedMigration[];
  /** Registers its GraphQL types, queries and mutations; returns the refs it offers others. */
  graphql(builder: Builder, refs: GraphQLRefs): object;
  /** Work before the first request (e.g. loading signing keys); after migrations. */
  start?(runtime: ModuleRuntime): Promise<void>;
  /** Starts its background workers; the composition root stops them before the database closes. */
  workers?(runtime: ModuleRuntime): BackgroundWorker[];
  /** Gauges it reports through GET /metrics. */
  readonly gauges?: Partial<MetricSources>;
}

/** Any module descriptor, as the composition root loops over them. */
// biome-ignore lint: the loop does not care about each module's API type
export type AnyModule = ModuleDescriptor<string, any>;
