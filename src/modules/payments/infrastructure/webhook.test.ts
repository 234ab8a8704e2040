import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseProviderEvent, signWebhook, verifyWebhookSignature } from './webhook.ts';

const secret = 'whsec_test_secret';
const tolerance = 5 * 60_000;
const t = 1_795_000_000; // seconds
const nowMs = t * 1_000;
const body = JSON.stringify({
  id: 'evt_1',
  type: 'charge.succeeded',
  data: { object: { id: 'ch_1', idempotency_key: 'order_1_charge' } },
});
const hmac = (payload: string, key = secret) => createHmac('sha256', key).update(payload).digest('hex');

describe('signWebhook', () => {
  it('writes t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">', () => {
    expect(signWebhook(body, secret, t)).toBe(`t=${t},v1=${hmac(`${t}.${body}`)}`);
  });
});

describe('verifyWebhookSignature', () => {
  it('accepts a fresh signature over the exact body', () => {
    expect(verifyWebhookSignature(signWebhook(body, secret, t), body, secret, tolerance, nowMs)).toEqual({ ok: true });
  });

  it.each([
    { name: 'a signature made with another secret', header: signWebhook(body, 'whsec_forged', t), rawBody: body },
    { name: 'a tampered body', header: signWebhook(body, secret, t), rawBody: body.replace('ch_1', 'ch_2') },
    { name: 'a body with a trailing newline added', header: signWebhook(body, secret, t), rawBody: `${body}\n` },
    { name: 'a timestamp moved after signing', header: signWebhook(body, secret, t).replace(`t=${t}`, `t=${t + 1}`), rawBody: body },
    { name: 'a signature over the body alone (no timestamp)', header: `t=${t},v1=${hmac(body)}`, rawBody: body },
  ])('answers mismatch for $name', ({ header, rawBody }) => {
    expect(verifyWebhookSignature(header, rawBody, secret, tolerance, nowMs)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it.each([
    { name: 'just inside the tolerance in the past', offsetMs: -tolerance, ok: true },
    { name: 'just inside the tolerance in the future', offsetMs: tolerance, ok: true },
    { name: 'beyond the tolerance in the past', offsetMs: -(tolerance + 1_000), ok: false },
    { name: 'beyond the tolerance in the future', offsetMs: tolerance + 1_000, ok: false },
    { name: 'a day old', offsetMs: -86_400_000, ok: false },
  ])('checks freshness: a timestamp $name', ({ offsetMs, ok }) => {
    // The signature itself is valid in every case: only the timestamp's age decides.
    const header = signWebhook(body, secret, t + offsetMs / 1_000);
    expect(verifyWebhookSignature(header, body, secret, tolerance, nowMs)).toEqual(ok ? { ok: true } : { ok: false, reason: 'stale' });
  });

  it.each([
    { name: 'null', header: null, reason: 'missing' },
    { name: 'empty', header: '', reason: 'missing' },
    { name: 'not key=value pairs', header: 'garbage', reason: 'malformed' },
    { name: 'without a timestamp', header: `v1=${hmac(`${t}.${body}`)}`, reason: 'malformed' },
    { name: 'without a v1 signature', header: `t=${t}`, reason: 'malformed' },
    { name: 'with only a v0 signature', header: `t=${t},v0=${hmac(`${t}.${body}`)}`, reason: 'malformed' },
    { name: 'with a non-numeric timestamp', header: `t=soon,v1=${hmac(`${t}.${body}`)}`, reason: 'malformed' },
    { name: 'with a negative timestamp', header: `t=-${t},v1=${hmac(`${t}.${body}`)}`, reason: 'malformed' },
    { name: 'with a truncated signature', header: `t=${t},v1=${hmac(`${t}.${body}`).slice(0, 63)}`, reason: 'malformed' },
    { name: 'with a non-hex signature', header: `t=${t},v1=${'z'.repeat(64)}`, reason: 'malformed' },
    { name: 'with an over-long signature', header: `t=${t},v1=${hmac(`${t}.${body}`)}00`, reason: 'malformed' },
  ])('answers $reason for a header $name', ({ header, reason }) => {
    expect(verifyWebhookSignature(header, body, secret, tolerance, nowMs)).toEqual({ ok: false, reason });
  });

  it('accepts several v1 signatures when one of them matches (secret rotation), in any position', () => {
    const good = hmac(`${t}.${body}`);
    const old = hmac(`${t}.${body}`, 'whsec_old');
    for (const header of [`t=${t},v1=${old},v1=${good}`, `t=${t},v1=${good},v1=${old}`, ` t=${t} , v1=${old} , v1=${good} `]) {
      expect(verifyWebhookSignature(header, body, secret, tolerance, nowMs)).toEqual({ ok: true });
    }
    expect(verifyWebhookSignature(`t=${t},v1=${old},v1=${'0'.repeat(64)}`, body, secret, tolerance, nowMs)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('ignores unknown schemes next to a valid v1', () => {
    const header = `t=${t},v0=${'a'.repeat(64)},v1=${hmac(`${t}.${body}`)},x=y`;
    expect(verifyWebhookSignature(header, body, secret, tolerance, nowMs)).toEqual({ ok: true });
  });
});

describe('parseProviderEvent', () => {
  const raw = (value: unknown) => JSON.stringify(value);

  it.each([
    {
      name: 'charge.succeeded',
      json: { id: 'evt_1', type: 'charge.succeeded', data: { object: { id: 'ch_1', idempotency_key: 'order_1_charge' } } },
      expected: { id: 'evt_1', type: 'charge.succeeded', chargeId: 'ch_1', idempotencyKey: 'order_1_charge' },
    },
    {
      name: 'charge.failed with its reason',
      json: {
        id: 'evt_2',
        type: 'charge.failed',
        data: { object: { id: 'ch_2', idempotency_key: 'k', failure_code: 'insufficient_funds', failure_message: 'No funds.' } },
      },
      expected: { id: 'evt_2', type: 'charge.failed', chargeId: 'ch_2', idempotencyKey: 'k', failureCode: 'insufficient_funds', failureMessage: 'No funds.' },
    },
    {
      name: 'charge.refunded with its refund, null optionals and unknown fields dropped',
      json: {
        id: 'evt_3',
        type: 'charge.refunded',
        livemode: false,
        data: { object: { id: 'ch_3', idempotency_key: 'k', refund: 're_3', failure_code: null, failure_message: null, amount: 100 } },
      },
      expected: { id: 'evt_3', type: 'charge.refunded', chargeId: 'ch_3', idempotencyKey: 'k', refundId: 're_3' },
    },
  ])('parses $name', ({ json, expected }) => {
    expect(parseProviderEvent(raw(json))).toEqual(expected);
  });

  const object = { id: 'ch_1', idempotency_key: 'k' };
  it.each([
    { name: 'malformed JSON', rawBody: '{"id": "evt_1",' },
    { name: 'an empty body', rawBody: '' },
    { name: 'JSON null', rawBody: 'null' },
    { name: 'a JSON array', rawBody: raw([{ id: 'evt_1' }]) },
    { name: 'a JSON string', rawBody: raw('charge.succeeded') },
    { name: 'no id', rawBody: raw({ type: 'charge.succeeded', data: { object } }) },
    { name: 'an empty id', rawBody: raw({ id: '', type: 'charge.succeeded', data: { object } }) },
    { name: 'a numeric id', rawBody: raw({ id: 1, type: 'charge.succeeded', data: { object } }) },
    { name: 'an unknown type', rawBody: raw({ id: 'evt_1', type: 'charge.captured', data: { object } }) },
    { name: 'no data', rawBody: raw({ id: 'evt_1', type: 'charge.succeeded' }) },
    { name: 'no data.object', rawBody: raw({ id: 'evt_1', type: 'charge.succeeded', data: {} }) },
    { name: 'no charge id', rawBody: raw({ id: 'evt_1', type: 'charge.succeeded', data: { object: { idempotency_key: 'k' } } }) },
    { name: 'no idempotency key', rawBody: raw({ id: 'evt_1', type: 'charge.succeeded', data: { object: { id: 'ch_1' } } }) },
    { name: 'an over-long id', rawBody: raw({ id: 'e'.repeat(256), type: 'charge.succeeded', data: { object } }) },
    { name: 'a non-string refund', rawBody: raw({ id: 'evt_1', type: 'charge.refunded', data: { object: { ...object, refund: 42 } } }) },
  ])('answers undefined for $name', ({ rawBody }) => {
    expect(parseProviderEvent(rawBody)).toBeUndefined();
  });
});
