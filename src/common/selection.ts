import { FieldNode, GraphQLResolveInfo, Kind, SelectionSetNode } from 'graphql';

/** The fields selected directly in a selection set, through inline fragments and fragment spreads. */
export function fieldsOf(
  selectionSet: SelectionSetNode | undefined,
  info: Pick<GraphQLResolveInfo, 'fragments'>,
  into: FieldNode[] = [],
): FieldNode[] {
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === Kind.FIELD) into.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fieldsOf(selection.selectionSet, info, into);
    else fieldsOf(info.fragments[selection.name.value]?.selectionSet, info, into);
  }
  return into;
}

/**
 * Names of the fields a query selects on the nodes of the connection being resolved (`edges { node { … } }`),
 * so a list query can leave out the columns nobody asked for. @skip/@include are not evaluated: a field
 * that may be skipped counts as selected, which only ever reads a column too many.
 */
export function selectedNodeFields(info: Pick<GraphQLResolveInfo, 'fragments' | 'fieldNodes'>): Set<string> {
  const selected = new Set<string>();
  for (const connection of info.fieldNodes) {
    for (const edges of fieldsOf(connection.selectionSet, info)) {
      if (edges.name.value !== 'edges') continue;
      for (const node of fieldsOf(edges.selectionSet, info)) {
        if (node.name.value !== 'node') continue;
        for (const field of fieldsOf(node.selectionSet, info)) selected.add(field.name.value);
      }
    }
  }
  return selected;
}
