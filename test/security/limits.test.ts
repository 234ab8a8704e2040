import { readFileSync, readdirSync } from 'node:fs';
import { parse, print, separateOperations } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSchema } from '../../src/modules.ts';
import { DOCUMENT_LIMITS, MEASURE_MODEL } from '../../src/graphql/security/limits.ts';
import { bindPageSizes, createCostMeter, createDocumentMeter, type DocumentMetrics } from '../../src/graphql/security/measure.ts';
import { MAX_PAGE_SIZE } from '../../src/platform/pagination.ts';

/**
 * The limits are set from what real clients send: every operation in test/operations and every
 * example of the README, measured with graphql-armor's own rules, must pass with a margin, at the
 * largest page size the API serves. The table printed here is the one in docs/security.md.
 */

const schema = createSchema({ currency: 'USD' });
const measure = createDocumentMeter(schema, MEASURE_MODEL);
const armorDefaults = createDocumentMeter(schema); // armor's own counting: fragments as levels, 1.5× per level

function realOperations(): { source: string; name: string; document: string }[] {
  const sources: [string, string][] = [];
  const dir = new URL('../operations/', import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort()) sources.push([`test/operations/${file}`, readFileSync(new URL(file, dir), 'utf8')]);
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const match of readme.matchAll(/```graphql\n([\s\S]*?)```/g)) sources.push(['README.md', match[1]!.replace(/"(UHJvZHVjdDo|T3JkZXI6)…"/g, '"$1"')]);
  return sources.flatMap(([source, text]) => Object.entries(separateOperations(parse(text))).map(([name, document]) => ({ source, name, document: print(document) })));
}

const operations = realOperations();
const largestPage = { first: MAX_PAGE_SIZE, last: MAX_PAGE_SIZE };
const measured: (DocumentMetrics & { source: string; name: string; armorDepth: number })[] = operations.map((op) => ({
  source: op.source,
  name: op.name,
  ...measure(op.document, largestPage),
  armorDepth: armorDefaults(op.document, largestPage).depth,
}));

describe('document limits against the real operations', () => {
  it('measures every operation of test/operations and the README', () => {
    expect(operations.length).toBeGreaterThanOrEqual(21);
    console.info(
      ['source | operation | depth | aliases | directives | tokens | cost (as written) | cost (page 100)']
        .concat(measured.map((m) => `${m.source} | ${m.name} | ${m.depth} | ${m.aliases} | ${m.directives} | ${m.tokens} | ${m.cost} | ${m.boundCost}`))
        .join('\n'),
    );
  });

  it.each(['depth', 'aliases', 'directives', 'tokens'] as const)('every real operation is within the %s limit', (metric) => {
    const worst = Math.max(...measured.map((m) => m[metric]));
    expect(worst).toBeLessThanOrEqual(DOCUMENT_LIMITS[metric]);
  });

  it('every real operation costs at most 80 % of the cost limit at the largest page size', () => {
    const worst = Math.max(...measured.map((m) => m.boundCost));
    expect(worst).toBeLessThanOrEqual(DOCUMENT_LIMITS.cost * 0.8);
  });

  it('the limits leave a margin: tokens ×3, cost ×1.25 over the worst real operation, depth +1', () => {
    expect(DOCUMENT_LIMITS.tokens).toBeGreaterThanOrEqual(3 * Math.max(...measured.map((m) => m.tokens)));
    expect(DOCUMENT_LIMITS.cost).toBeGreaterThanOrEqual(1.25 * Math.max(...measured.map((m) => m.boundCost)));
    expect(DOCUMENT_LIMITS.depth).toBe(Math.max(...measured.map((m) => m.depth)) + 1);
  });

  it('is tighter than graphql-armor’s defaults where the measurement allows it', () => {
    const armor = { depth: 6, aliases: 15, directives: 50, tokens: 1_000, cost: 5_000 };
    expect(DOCUMENT_LIMITS.aliases).toBeLessThan(armor.aliases);
    expect(DOCUMENT_LIMITS.directives).toBeLessThan(armor.directives);
    expect(DOCUMENT_LIMITS.tokens).toBeLessThan(armor.tokens);
    expect(DOCUMENT_LIMITS.cost).toBeLessThan(armor.cost);
    // Depth cannot be: armor's default counting (fragments as levels) puts PlaceOrder at 8, over
    // its own default of 6, and the deepest real operation has 6 field levels.
    expect(Math.max(...measured.map((m) => m.armorDepth))).toBeGreaterThan(armor.depth);
  });
});

describe('bindPageSizes: the cost the server charges', () => {
  const cost = createCostMeter(schema, MEASURE_MODEL.cost);
  const doc = (text: string) => parse(text);

  it('multiplies a connection by its page size from literals, variables or the default of 20', () => {
    const literal = cost(doc('{ products(first: 10) { edges { node { id } } } }'), {});
    const variable = cost(doc('query($n: Int) { products(first: $n) { edges { node { id } } } }'), { n: 10 });
    const backwards = cost(doc('query($n: Int) { products(last: $n) { edges { node { id } } } }'), { n: 10 });
    const byDefault = cost(doc('{ products { edges { node { id } } } }'), {});
    expect(variable).toBe(literal);
    expect(backwards).toBe(literal);
    expect(byDefault).toBe(2 * literal);
  });

  it('multiplies nodes(ids) by the number of ids', () => {
    expect(cost(doc('query($ids: [ID!]!) { nodes(ids: $ids) { id } }'), { ids: ['a', 'b', 'c', 'd'] })).toBe(4 * cost(doc('{ nodes(ids: ["a"]) { id } }'), {}));
  });

  it('leaves other fields and the original document untouched', () => {
    const original = doc('query($n: Int) { me { id } products(first: $n) { totalCount } }');
    const bound = bindPageSizes(schema, original, { n: 5 });
    expect(print(original)).toContain('first: $n');
    expect(print(bound)).toContain('products(first: 5)');
    expect(print(bound)).toContain('me {');
  });
});
