/** Roles a signed-in viewer can hold. */
export type Role = 'CUSTOMER' | 'ADMIN';

/**
 * Who is calling: nobody, a customer account (possibly with the admin role), or the system itself
 * (seeding, background workers), which may do what an admin may.
 */
export type Viewer =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'customer'; readonly customerId: string; readonly role: Role }
  | { readonly kind: 'system'; readonly name: string };

export const anonymous: Viewer = Object.freeze({ kind: 'anonymous' });

/**
 * The operation context, passed first to every use case (Go's `ctx`): cancellation, the caller,
 * and a correlation id for logs.
 */
export interface OpContext {
  readonly signal: AbortSignal;
  readonly viewer: Viewer;
  readonly requestId: string;
  /**
   * W3C Trace Context of the operation's span, filled in when that span starts (tracing on).
   * Writes that outlive the operation (outbox rows) copy it, so the spans that later deliver the
   * event link back to the request that made it; undefined for work outside any operation span.
   */
  readonly trace?: TraceCarrier;
}

/** A W3C Trace Context carrier: `traceparent` (and `tracestate`) once a span is injected into it. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** True when the viewer is signed in with the admin role. */
export const isAdmin = (viewer: Viewer): boolean =>
  viewer.kind === 'system' || (viewer.kind === 'customer' && viewer.role === 'ADMIN');

/** The customer id of a signed-in viewer, or undefined for anonymous callers. */
export const viewerCustomerId = (viewer: Viewer): string | undefined =>
  viewer.kind === 'customer' ? viewer.customerId : undefined;

/** True when the viewer may see data owned by `ownerCustomerId`: its owner or an admin. */
export const canSeeOwnedBy = (viewer: Viewer, ownerCustomerId: string): boolean =>
  isAdmin(viewer) || (viewer.kind === 'customer' && viewer.customerId === ownerCustomerId);

/**
 * Whom a viewer's reads are visible to: viewers with the same audience may see exactly the same
 * data (every admin and the system see everything, a customer their own), so a result computed
 * for one of them may be handed to the others (shared subscription events).
 */
export const audienceOf = (viewer: Viewer): string =>
  isAdmin(viewer) ? 'admin' : viewer.kind === 'customer' ? `customer:${viewer.customerId}` : 'anonymous';

/** The actor name written to audit trails: `customer:<id>`, `admin:<id>` or `system:<name>`. */
export const actorOf = (viewer: Viewer): string | null => {
  switch (viewer.kind) {
    case 'anonymous':
      return null;
    case 'system':
      return `system:${viewer.name}`;
    case 'customer':
      return `${viewer.role === 'ADMIN' ? 'admin' : 'customer'}:${viewer.customerId}`;
  }
};

/** An operation context for background work and scripts (no caller, never cancelled unless `signal` is). */
export function systemContext(name: string, signal: AbortSignal = new AbortController().signal): OpContext {
  return { signal, viewer: { kind: 'system', name }, requestId: `${name}-${crypto.randomUUID()}`, trace: {} };
}
