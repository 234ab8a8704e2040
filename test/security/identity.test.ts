import { describe, expect, it } from 'vitest';
import { clientAddress, identityOf } from '../../src/graphql/security/identity.ts';

const headers = (forwarded?: string) => new Headers(forwarded ? { 'x-forwarded-for': forwarded } : {});

describe('the identity rate limits count against', () => {
  it('is the customer when signed in, else the client address', () => {
    expect(identityOf({ kind: 'customer', customerId: 'c1', role: 'CUSTOMER' }, '10.0.0.1')).toBe('customer:c1');
    expect(identityOf({ kind: 'anonymous' }, '10.0.0.1')).toBe('ip:10.0.0.1');
  });

  it('ignores X-Forwarded-For unless proxies are trusted, and then takes the entry the last trusted proxy wrote', () => {
    expect(clientAddress(headers('1.2.3.4'), '10.0.0.9', 0)).toBe('10.0.0.9');
    expect(clientAddress(headers('6.6.6.6, 1.2.3.4'), '10.0.0.9', 1)).toBe('1.2.3.4');
    expect(clientAddress(headers('6.6.6.6, 1.2.3.4, 10.0.0.8'), '10.0.0.9', 2)).toBe('1.2.3.4');
    expect(clientAddress(headers('not-an-ip'), '10.0.0.9', 1)).toBe('10.0.0.9');
    expect(clientAddress(headers(), '10.0.0.9', 1)).toBe('10.0.0.9');
  });
});
