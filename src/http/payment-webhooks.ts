import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../platform/logger.ts';
import { parseProviderEvent, verifyWebhookSignature } from '../modules/payments/module.ts';
import type { ProviderEvent } from '../modules/payments/public.ts';

/** Where the provider posts its events. */
export const PAYMENT_WEBHOOK_PATH = '/webhooks/payments';
/** Largest webhook body accepted; provider events are a few KB. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * `POST /webhooks/payments`, as a yoga plugin: the transport of the payment provider's
 * asynchronous events (charge succeeded, failed, refunded). The `Payment-Signature` header
 * (HMAC-SHA256 over timestamp and raw body) is checked in constant time with a timestamp
 * tolerance; a missing or bad signature, a stale timestamp or a malformed body gets 400 and
 * changes nothing. A valid event goes to `handle` (the orders module's handleProviderEvent use
 * case: recorded once, then the order moved). Unexpected failures answer 500, so the provider
 * delivers the event again later. Without a configured secret the endpoint answers 404.
 */
export function paymentWebhookPlugin(options: {
  readonly secret: string | undefined;
  readonly toleranceMs: number;
  /** Applies a verified event; what it did is logged and answered. */
  readonly handle: (event: ProviderEvent) => Promise<{ readonly applied: boolean; readonly orderId: string | null }>;
  readonly logger: Logger;
}): Plugin<Record<string, unknown>> {
  const { secret, toleranceMs, handle } = options;
  const logger = options.logger.child({ component: 'payment-webhooks' });
  const json = (status: number, body: unknown, fetchAPI: { Response: typeof Response }) =>
    new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== PAYMENT_WEBHOOK_PATH) return;
      if (!secret) return endResponse(json(404, { error: 'not found' }, fetchAPI));
      if (request.method !== 'POST') return endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'POST' } }));
      const declared = Number(request.headers.get('content-length') ?? '0');
      if (declared > MAX_BODY_BYTES) return endResponse(json(413, { error: 'body too large' }, fetchAPI));
      const raw = await request.text();
      if (Buffer.byteLength(raw) > MAX_BODY_BYTES) return endResponse(json(413, { error: 'body too large' }, fetchAPI));
      const check = verifyWebhookSignature(request.headers.get('payment-signature'), raw, secret, toleranceMs, Date.now());
      if (!check.ok) {
        logger.warn({ reason: check.reason }, 'webhook refused: signature');
        return endResponse(json(400, { error: 'invalid signature' }, fetchAPI));
      }
      const event = parseProviderEvent(raw);
      if (!event) {
        logger.warn('webhook refused: malformed event');
        return endResponse(json(400, { error: 'malformed event' }, fetchAPI));
      }
      try {
        const result = await handle(event);
        logger.info({ eventId: event.id, type: event.type, orderId: result.orderId, applied: result.applied }, 'webhook received');
        return endResponse(json(200, { received: true, duplicate: !result.applied }, fetchAPI));
      } catch (error) {
        logger.error({ err: error, eventId: event.id }, 'webhook failed; the provider will deliver it again');
        return endResponse(json(500, { error: 'temporarily unavailable' }, fetchAPI));
      }
    },
  };
}
