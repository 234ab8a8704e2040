import { Kind, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { PageArgs } from '../platform/pagination.ts';

/** The parts of a resolver's `info` that {@link selectsField} reads (graphql-js and graphql-jit both hand them over). */
export interface SelectionInfo {
  readonly fieldNodes: readonly { readonly selectionSet?: SelectionSetNode | undefined }[];
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>;
}

/**
 * Whether the field being resolved selects the sub-field `name` (directly, or through inline
 * fragments and fragment spreads), so a connection resolver knows before reading the page whether
 * `totalCount` will be asked for and can have the page's statement count too. A selection under
 * `@skip`/`@include` counts as selected: at worst the count is read and not returned.
 */
export function selectsField(info: SelectionInfo, name: string): boolean {
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode | undefined): boolean =>
    set?.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === name;
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      const fragment = selection.name.value;
      if (seen.has(fragment)) return false;
      seen.add(fragment);
      return visit(info.fragments[fragment]?.selectionSet);
    }) ?? false;
  return info.fieldNodes.some((node) => visit(node.selectionSet));
}

/**
 * The page a Relay connection field asks for: its `first`/`after`/`last`/`before` arguments, and
 * `withTotalCount` when its selection reads `totalCount`.
 */
export function pageArgsOf(args: PageArgs, info: SelectionInfo): PageArgs {
  return { first: args.first, after: args.after, last: args.last, before: args.before, withTotalCount: selectsField(info, 'totalCount') };
}
