import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ProviderEvent } from '../application/record-provider-event.ts';

/** Outcome of a signature check: ok, or why not (for logs; the client only sees 400). */
export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * Checks a `Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` header over
 * `"<t>.<raw body>"` with the shared webhook secret (the Stripe scheme): compared in constant time,
 * and refused when `t` is more than `toleranceMs` away from `nowMs` (replays of old deliveries).
 * Several `v1` entries are allowed (secret rotation); one match suffices.
 */
export function verifyWebhookSignature(header: string | null, rawBody: string, secret: string, toleranceMs: number, nowMs: number): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowMs - timestamp * 1_000) > toleranceMs) return { ok: false, reason: 'stale' };
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();
  return signatures.some((candidate) => timingSafeEqual(candidate, expected)) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** `Payment-Signature` header value for `rawBody` (what the provider sends; used by tests and tools). */
export function signWebhook(rawBody: string, secret: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`).digest('hex')}`;
}

const eventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.enum(['charge.succeeded', 'charge.failed', 'charge.refunded']),
  data: z.object({
    object: z.object({
      id: z.string().min(1).max(255),
      idempotency_key: z.string().min(1).max(255),
      failure_code: z.string().max(255).nullish(),
      failure_message: z.string().max(1_000).nullish(),
      refund: z.string().max(255).nullish(),
    }),
  }),
});

/** Parses a verified webhook body. @returns the event, or undefined for anything malformed. */
export function parseProviderEvent(rawBody: string): ProviderEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { id, type, data } = parsed.data;
  return {
    id,
    type,
    chargeId: data.object.id,
    idempotencyKey: data.object.idempotency_key,
    ...(data.object.failure_code ? { failureCode: data.object.failure_code } : {}),
    ...(data.object.failure_message ? { failureMessage: data.object.failure_message } : {}),
    ...(data.object.refund ? { refundId: data.object.refund } : {}),
  };
}
