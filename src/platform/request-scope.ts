import type { EntityManager } from '@mikro-orm/postgresql';
import { contextCacheSymbol } from '@pothos/core';
import type { OpContext } from './op-context.ts';

/** Where a request comes from, as far as the server can tell (proxy rules applied). */
export interface ClientInfo {
  /** The client's IP address, or `unknown`. */
  readonly address: string;
}

/**
 * One operation's scope (an HTTP request, a graphql-ws subscription, a background round): the
 * operation context, the caller's address when there is one, and an EntityManager fork made on
 * first use (most subscriptions never read the database between events). Module APIs are built
 * from it (`forRequest(scope)`); Pothos keys each field's DataLoader (and its other per-context
 * caches) on the scope's current parts, so loaders live as long as the scope (ADR 0010) and go
 * with its fork when the parts are released (releaseScopeParts).
 */
export interface RequestScope {
  readonly op: OpContext;
  readonly client: ClientInfo | undefined;
  readonly em: EntityManager;
}

/** A module as the composition root sees it for one operation: its API built from the scope. */
export interface ScopedModule<Name extends string, Api> {
  readonly name: Name;
  forRequest(scope: RequestScope): Api;
}

/** A scope with each module's API as a property, built by an ordinary getter on first read. */
export type ScopeWith<M extends readonly ScopedModule<string, unknown>[]> = RequestScope & {
  readonly [K in M[number] as K['name']]: ReturnType<K['forRequest']>;
};

/** Where a scope keeps the parts its getters built. */
const SLOTS = Symbol('scope parts');

/**
 * Makes scopes whose `em` and module APIs are ordinary getters, built on first read and then
 * kept: a subscription holds its scope for its whole life, so building every module
 * per socket cost memory for nothing (issue 6), and `console.log` or a stack trace shows a plain
 * object, not a proxy. `decorate` wraps each module API once when it is built (tracing, metrics).
 *
 * The getters are own, non-enumerable properties defined from one shared descriptor map (no
 * closure per scope): yoga merges a context factory's result into its server context with
 * `Object.assign`, which would call enumerable getters (building everything) and drop inherited
 * ones. Given `target` (yoga's server context), the scope is that object, extended.
 * @param fork makes the operation's EntityManager (a fork of the process-wide one)
 */
export function createScopeFactory<M extends readonly ScopedModule<string, unknown>[]>(
  fork: () => EntityManager,
  modules: M,
  decorate: (module: string, api: object) => object = (_module, api) => api,
): (op: OpContext, client?: ClientInfo, target?: object) => ScopeWith<M> {
  const descriptors: PropertyDescriptorMap = {};
  // Each getter builds its part once per scope and keeps it in the scope's slots (redefining the
  // property instead costs microseconds per scope and turns the object into a slow one).
  const memo = (name: string, build: (scope: RequestScope) => unknown) => {
    descriptors[name] = {
      configurable: true,
      enumerable: false,
      get(this: RequestScope & { [SLOTS]: Record<string, unknown> }) {
        const slots = this[SLOTS];
        return name in slots ? slots[name] : (slots[name] = build(this));
      },
    };
  };
  memo('em', () => fork());
  // Pothos' per-context caches (DataLoaders, scope-auth) key on `context[contextCacheSymbol]` when
  // set (@pothos/core's context-cache.ts): pointing it at the slots makes a release drop them too.
  descriptors[contextCacheSymbol] = {
    configurable: true,
    enumerable: false,
    get(this: { [SLOTS]: Record<string, unknown> }) {
      return this[SLOTS];
    },
  };
  for (const module of modules) memo(module.name, (scope) => decorate(module.name, module.forRequest(scope) as object));
  return (op, client, target = {}) => {
    const scope = Object.defineProperties(target, descriptors) as { op: OpContext; client: ClientInfo | undefined; [SLOTS]: Record<string, unknown> };
    scope.op = op;
    scope.client = client;
    scope[SLOTS] = {};
    return scope as unknown as ScopeWith<M>;
  };
}

/**
 * Drops what a scope's getters have built (its EntityManager fork, the module APIs) and Pothos'
 * caches for it (DataLoaders, scope-auth); the next read builds them afresh. For a scope held long
 * while idle: a subscription keeps its context for the life of its socket but needs these parts
 * only to set its stream up, and then each event's execution needs its own (fresh data, issue 15).
 * Measured with bench/subscriptions.ts (heap snapshots,
 * 2,000 sockets): −5.6 KB heap per idle subscribed socket (27.8 → 22.2 KB). A no-op on an object
 * that is not a scope.
 */
export function releaseScopeParts(scope: object): void {
  if (SLOTS in scope) (scope as { [SLOTS]: Record<string, unknown> })[SLOTS] = {};
}
