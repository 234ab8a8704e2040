import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSchema } from '../../modules.ts';
import { chargeOf, inputCharges, INPUT_FIELD_COSTS } from './input-cost.ts';

const schema = createSchema({ currency: 'USD' });
const SEARCH = INPUT_FIELD_COSTS['ProductFilter.search']!;
const charge = (document: string, variables?: Record<string, unknown>) => chargeOf(inputCharges(schema, parse(document)), variables);

describe('input cost: a product search', () => {
  it.each([
    ['no filter', '{ products { totalCount } }', undefined, 0],
    ['a filter without a search', '{ products(filter: { inStock: true }) { totalCount } }', undefined, 0],
    ['a literal search', '{ products(filter: { search: "pen" }) { totalCount } }', undefined, SEARCH],
    ['an empty literal search (matches everything, like none)', '{ products(filter: { search: "" }) { totalCount } }', undefined, 0],
    ['a search from a variable', 'query($s: String) { products(filter: { search: $s }) { totalCount } }', { s: 'pen' }, SEARCH],
    ['a search variable left out', 'query($s: String) { products(filter: { search: $s }) { totalCount } }', {}, 0],
    ['a search variable left out with a default', 'query($s: String = "pen") { products(filter: { search: $s }) { totalCount } }', {}, SEARCH],
    ['a search inside a filter variable', 'query($f: ProductFilter) { products(filter: $f) { totalCount } }', { f: { search: 'pen' } }, SEARCH],
    ['a filter variable without a search', 'query($f: ProductFilter) { products(filter: $f) { totalCount } }', { f: { inStock: true } }, 0],
    ['two aliased searches', '{ a: products(filter: { search: "a" }) { totalCount } b: products(filter: { search: "b" }) { totalCount } }', undefined, 2 * SEARCH],
    ['a search in a fragment', 'query { ...F } fragment F on Query { products(filter: { search: "pen" }) { totalCount } }', undefined, SEARCH],
  ])('%s', (_what, document, variables, expected) => {
    expect(charge(document, variables)).toBe(expected);
  });
});
