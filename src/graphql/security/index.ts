import type { IncomingMessage } from 'node:http';
import type { Redis } from 'ioredis';
import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../../config.ts';
import type { OpContext } from '../../platform/op-context.ts';
import { useDocumentLimits, type DocumentLimits } from './armor.ts';
import { useUnsupportedMediaTypeError } from './media-type.ts';
import { createDocumentCaches, type DocumentCache } from './document-cache.ts';
import { useRequestBody } from './body-limit.ts';
import { useClientErrors } from './client-errors.ts';
import { useRequestLine, useRequiredQuery } from './request-shape.ts';
import { useCsrfPrevention } from './csrf.ts';
import { clientAddress as addressFrom, clientAddressOf, identityOf, type AddressSource, type ClientInfo } from './identity.ts';
import { useNoIntrospection } from './introspection.ts';
import { DOCUMENT_LIMITS, TRANSPORT_LIMITS } from './limits.ts';
import { useRequestIdOnMaskedErrors } from './masking.ts';
import { useOperationLimits } from './operation-limits.ts';
import { useStringLengthLimit } from './string-limit.ts';
import { createThrottle, type Throttle } from './rate-limit.ts';
import { createCostBudgets, type BudgetCharge, type TierOf } from './cost-budget.ts';
import { anonymous, type Viewer } from '../../platform/op-context.ts';
import { TRUSTED_DOCUMENT_PARAMS, loadTrustedDocuments, useTrustedDocuments, type TrustedDocuments } from './trusted-documents.ts';

export type { ClientInfo } from './identity.ts';
export type { BudgetTier, CostReport, TierOf } from './cost-budget.ts';
export { DOCUMENT_LIMITS, TRANSPORT_LIMITS } from './limits.ts';
export { createErrorMask, maskResult, maskStreamError, useMaskedSubscriptions, type MaskError } from './masking.ts';
export { TOKEN_EXPIRED_CLOSE, TOKEN_RENEWAL_REFUSED_CLOSE, renewalTokenOf, resolveTrustedDocument, sameViewer, tooManySubscriptions } from './ws.ts';

/** What the HTTP and graphql-ws servers need from the security settings. */
export interface TransportSettings {
  /** Body cap in bytes: larger bodies get 413 before they are read (a plugin of {@link Security.plugins}; yoga's own cap is off). */
  readonly maxBodyBytes: number;
  /** Extra request parameters yoga must accept (trusted documents' `documentId`). */
  readonly extraParamNames: readonly string[];
  /** graphql-ws limits. */
  readonly ws: {
    readonly connectionInitTimeoutMs: number;
    readonly maxMessageBytes: number;
    readonly maxSubscriptionsPerSocket: number;
    /** A socket running no operation for this many ms is closed (WS_ANONYMOUS_IDLE_MS; src/graphql/ws-lifecycle.ts). */
    readonly idleMs: number;
    /** Sockets one client address may hold; the next upgrade gets HTTP 429 (WS_MAX_SOCKETS_PER_ADDRESS). */
    readonly maxSocketsPerAddress: number;
    /** Unsent bytes a socket may hold before it is closed with 4008 and its resume cursor (WS_SEND_BUFFER_BYTES; src/graphql/ws-lifecycle.ts). */
    readonly sendBufferBytes: number;
  };
  /** yoga's parse caches, bounded in entries and document size. */
  readonly parserCache: { readonly documentCache: DocumentCache<DocumentNode>; readonly errorCache: DocumentCache<unknown> };
  /** When set, graphql-ws runs only these documents (HTTP is covered by a plugin). */
  readonly trustedDocuments: TrustedDocuments | undefined;
  /** The client's address from a yoga or graphql-ws context. */
  clientAddress(context: AddressSource): string;
  /** The client's address from a WebSocket upgrade request. */
  clientAddressOfUpgrade(request: IncomingMessage): string;
}

/** The security controls, built once per app by {@link createSecurity}. */
export interface Security {
  /** yoga/envelop plugins, in the order they must run. */
  readonly plugins: readonly Plugin<Record<string, unknown>>[];
  /**
   * Client errors of execution results get their code (and lose suggestions when hidden): goes
   * before every plugin that reads results (logs, metrics, traces), so they see the client's code.
   */
  readonly clientErrors: Plugin<Record<string, unknown>>;
  readonly transport: TransportSettings;
  /**
   * The sign-in throttle for one operation: bound to its identity (the client's address for an
   * anonymous caller). Undefined when rate limiting is off or the caller is internal.
   */
  signInThrottleFor(op: OpContext, client: ClientInfo | undefined): (() => Promise<{ retryAfterSeconds: number } | undefined>) | undefined;
  /**
   * Charges `points` to the cost budget of `viewer` (or of the client `address` when anonymous),
   * as the cost limits charge an operation before it runs: for answers served before they run (the
   * response cache's hit path). Undefined when rate limiting is off.
   */
  readonly chargeCost: ((viewer: Viewer, address: string, points: number) => Promise<BudgetCharge | undefined>) | undefined;
}

/**
 * Builds every control of docs/security.md from the configuration: methods and empty requests
 * (405, 400), strict request reading (body cap, UTF-8, JSON), CSRF prevention, trusted
 * documents, armor's document limits, hidden suggestions and coded client errors, introspection off, the bound cost limit
 * with per-identity rate limits and tier-aware cost budgets (in Redis when `redis` is given), and
 * request ids on masked errors. `tierOf` reads a customer's tier for its cost budget (without it,
 * every customer is budgeted as BASIC).
 * @throws Error when the trusted-documents manifest cannot be read or is inconsistent.
 */
export async function createSecurity(config: Config, deps: { redis?: Redis | undefined; tierOf?: TierOf } = {}): Promise<Security> {
  const settings = config.security;
  const limits: DocumentLimits = DOCUMENT_LIMITS;
  const trusted = settings.trustedDocumentsManifest ? await loadTrustedDocuments(settings.trustedDocumentsManifest) : undefined;
  const rates = settings.rateLimits;
  const throttles = rates
    ? {
        signIn: createThrottle('sign-in', rates.signIn, deps.redis),
        placeOrder: createThrottle('place-order', rates.placeOrder, deps.redis),
        cost: createCostBudgets(rates.costBudgets, { redis: deps.redis, tierOf: deps.tierOf ?? (async () => undefined) }),
      }
    : undefined;
  const clientAddress = (context: AddressSource) => clientAddressOf(context, settings.trustProxyHops);
  const identify = (context: unknown) => {
    const source = (context ?? {}) as AddressSource & { op?: OpContext };
    const viewer = source.op?.viewer ?? anonymous;
    return { identity: identityOf(viewer, clientAddress(source)), viewer };
  };

  // Benchmark diagnostic only (DIAGNOSTIC_DISABLE, issue 11's ablation); empty in every real setup.
  const off = config.diagnostics.disabled;
  const plugins: Plugin<Record<string, unknown>>[] = [
    useRequestLine(),
    useRequestBody(settings.maxBodyBytes),
    ...(off.has('csrf') ? [] : [useCsrfPrevention()]),
    useUnsupportedMediaTypeError(),
    ...(trusted ? [useTrustedDocuments(trusted)] : []),
    useRequiredQuery(),
    useStringLengthLimit({ maxChars: TRANSPORT_LIMITS.stringChars, exposeLimits: settings.exposeLimits }),
    ...(off.has('armor') ? [] : [useDocumentLimits({ exposeLimits: settings.exposeLimits, limits })]),
    ...(settings.introspection ? [] : [useNoIntrospection()]),
    useOperationLimits({
      maxCost: limits.cost,
      exposeLimits: settings.exposeLimits,
      throttles: throttles ? { cost: throttles.cost, placeOrder: throttles.placeOrder } : undefined,
      identify,
    }),
    ...(off.has('masking') ? [] : [useRequestIdOnMaskedErrors()]),
  ] as Plugin<Record<string, unknown>>[];

  const signIn: Throttle | undefined = throttles?.signIn;
  return {
    plugins,
    clientErrors: useClientErrors({ hideSuggestions: !settings.fieldSuggestions }) as Plugin<Record<string, unknown>>,
    transport: {
      maxBodyBytes: settings.maxBodyBytes,
      extraParamNames: trusted ? [...TRUSTED_DOCUMENT_PARAMS] : [],
      ws: {
        connectionInitTimeoutMs: TRANSPORT_LIMITS.wsConnectionInitTimeoutMs,
        maxMessageBytes: settings.maxBodyBytes,
        maxSubscriptionsPerSocket: TRANSPORT_LIMITS.wsSubscriptionsPerSocket,
        idleMs: settings.ws.idleMs,
        maxSocketsPerAddress: settings.ws.maxSocketsPerAddress,
        sendBufferBytes: settings.ws.sendBufferBytes,
      },
      parserCache: createDocumentCaches({ maxEntries: TRANSPORT_LIMITS.documentCacheEntries, maxDocumentChars: TRANSPORT_LIMITS.documentCacheMaxChars }),
      trustedDocuments: trusted,
      clientAddress,
      clientAddressOfUpgrade: (request) =>
        addressFrom({ get: (name) => (request.headers[name] === undefined ? null : [request.headers[name]].flat().join(',')) }, request.socket.remoteAddress, settings.trustProxyHops),
    },
    chargeCost: throttles ? (viewer, address, points) => throttles.cost.charge(identityOf(viewer, address), viewer, points) : undefined,
    signInThrottleFor(op, client) {
      if (!signIn || op.viewer.kind === 'system') return undefined;
      const identity = identityOf(op.viewer, client?.address ?? 'unknown');
      return () => signIn.take(identity);
    },
  };
}
