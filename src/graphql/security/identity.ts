import { isIP } from 'node:net';
import type { Viewer } from '../../platform/op-context.ts';

export type { ClientInfo } from '../../platform/request-scope.ts';

/** What a server context may carry that tells the client's address. */
export interface AddressSource {
  /** Node's request (yoga's node adapter puts it in the server context). */
  readonly req?: { readonly socket?: { readonly remoteAddress?: string | undefined } };
  readonly request?: Request;
  /** Set by the graphql-ws path from the upgrade request. */
  readonly clientAddress?: string;
}

/**
 * The client's IP address. With `trustedProxyHops` = 0 (the default) the socket's peer address;
 * behind N proxies that each append to `X-Forwarded-For`, the address N entries from its right
 * end (entries further left are whatever the client wrote and are not trusted).
 */
export function clientAddress(headers: { get(name: string): string | null } | undefined, socketAddress: string | undefined, trustedProxyHops: number): string {
  const peer = socketAddress ?? 'unknown';
  if (trustedProxyHops <= 0 || !headers) return peer;
  const forwarded = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  const chain = [...forwarded, peer];
  const candidate = chain[Math.max(0, chain.length - 1 - trustedProxyHops)]!;
  return isIP(candidate) ? candidate : peer;
}

/** {@link clientAddress} of a yoga or graphql-ws context. */
export function clientAddressOf(context: AddressSource, trustedProxyHops: number): string {
  if (context.clientAddress) return context.clientAddress;
  return clientAddress(context.request?.headers, context.req?.socket?.remoteAddress, trustedProxyHops);
}

/**
 * The identity rate limits count against: the customer (or admin) when signed in, so that one
 * account is limited wherever it connects from; else the client address.
 */
export function identityOf(viewer: Viewer | undefined, address: string): string {
  if (viewer?.kind === 'customer') return `customer:${viewer.customerId}`;
  if (viewer?.kind === 'system') return `system:${viewer.name}`;
  return `ip:${address}`;
}
