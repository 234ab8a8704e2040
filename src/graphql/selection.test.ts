import { Kind, parse, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { selectsField } from './selection.ts';

/** The `info` a resolver of the document's first root field gets (its field nodes and fragments). */
function infoOf(document: string) {
  const parsed = parse(document);
  const operation = parsed.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(
    parsed.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  return { fieldNodes: [operation.selectionSet.selections[0] as FieldNode], fragments };
}

describe('selectsField', () => {
  it.each([
    ['directly', '{ orders { totalCount edges { cursor } } }', true],
    ['through an alias', '{ orders { n: totalCount } }', true],
    ['in an inline fragment', '{ orders { ... on QueryOrdersConnection { totalCount } } }', true],
    ['in a fragment spread, nested', '{ orders { ...A } } fragment A on QueryOrdersConnection { ...B } fragment B on QueryOrdersConnection { totalCount }', true],
    ['under @skip (counted: at worst read and not returned)', '{ orders { totalCount @skip(if: true) } }', true],
    ['not at all', '{ orders { edges { node { id } } pageInfo { endCursor } } }', false],
    ['only deeper down', '{ orders { edges { node { items { totalCount } } } } }', false],
    ['in fragments that spread each other', '{ orders { ...A } } fragment A on X { ...B } fragment B on X { ...A edges { cursor } }', false],
  ])('%s', (_label, document, expected) => {
    expect(selectsField(infoOf(document), 'totalCount')).toBe(expected);
  });
});
