import DataLoader from 'dataloader';
import { PageArgs } from './connection';

export interface ChildPageKey<F = undefined> {
  parentId: string;
  first?: number | null;
  after?: string | null;
  /** Extra list arguments (a filter); keys with equal filters are batched together. */
  filter?: F | null;
  /** Properties the page need not read: nothing selected shows them (OptionalListColumns). */
  leaveOut?: readonly string[];
}

/**
 * A DataLoader over keys that name a parent plus arguments (page size, cursor, filter). Keys with equal
 * arguments are fetched together in one statement; different arguments (rare) make one statement each.
 * A group whose fetch fails (first: 101, a foreign cursor) fails only its own keys, not the whole batch.
 */
function argumentGroupedLoader<K extends { parentId: string }, V>(
  argumentsOf: (key: K) => unknown[],
  fetch: (parentIds: readonly string[], sample: K) => Promise<Map<string, V>>,
  missing: V,
) {
  const groupKeyOf = (key: K) => JSON.stringify(argumentsOf(key));
  return new DataLoader<K, V, string>(
    async (keys) => {
      // Keys in the same group share their arguments; each group is fetched once, for all its parents.
      const groups = new Map<string, { sample: K; parentIds: string[]; values?: Map<string, V> | Error }>();
      const groupOfKey = keys.map((key) => {
        const groupKey = groupKeyOf(key);
        let group = groups.get(groupKey);
        if (!group) groups.set(groupKey, (group = { sample: key, parentIds: [] }));
        group.parentIds.push(key.parentId);
        return group;
      });
      for (const group of groups.values()) {
        try {
          group.values = await fetch(group.parentIds, group.sample);
        } catch (error) {
          group.values = error instanceof Error ? error : new Error(String(error));
        }
      }
      return keys.map((key, index) => {
        const values = groupOfKey[index].values!;
        return values instanceof Error ? values : (values.get(key.parentId) ?? missing);
      });
    },
    { cacheKeyFn: (key) => `${key.parentId}:${groupKeyOf(key)}` },
  );
}

/** A page of children per parent (rows first + 1, so the caller knows whether more follow). */
export function childPageLoader<E, F = undefined>(
  fetch: (
    parentIds: readonly string[],
    args: PageArgs,
    filter: F | null,
    leaveOut: readonly string[],
  ) => Promise<Map<string, E[]>>,
) {
  return argumentGroupedLoader<ChildPageKey<F>, E[]>(
    (key) => [key.first ?? null, key.after ?? null, key.filter ?? null, key.leaveOut ?? []],
    (parentIds, key) =>
      fetch(parentIds, { first: key.first, after: key.after }, key.filter ?? null, key.leaveOut ?? []),
    [],
  );
}

/** A DataLoader from ids to rows, `null` for misses, results in key order. */
export function byIdLoader<E extends { id: string }>(fetch: (ids: readonly string[]) => Promise<E[]>) {
  return new DataLoader<string, E | null>(async (ids) => {
    const rows = await fetch(ids);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** A DataLoader from a parent id to all its (few) children, e.g. a contract's agreements. */
export function groupLoader<E>(fetch: (parentIds: readonly string[]) => Promise<Map<string, E[]>>) {
  return new DataLoader<string, E[]>(async (parentIds) => {
    const groups = await fetch(parentIds);
    return parentIds.map((id) => groups.get(id) ?? []);
  });
}

/** A DataLoader from a parent id to a count. */
export function countLoader(fetch: (parentIds: readonly string[]) => Promise<Map<string, number>>) {
  return new DataLoader<string, number>(async (parentIds) => {
    const counts = await fetch(parentIds);
    return parentIds.map((id) => counts.get(id) ?? 0);
  });
}

/** A count per parent under a filter; parents with equal filters are counted in one statement. */
export function filteredCountLoader<F>(
  fetch: (parentIds: readonly string[], filter: F | null) => Promise<Map<string, number>>,
) {
  return argumentGroupedLoader<{ parentId: string; filter?: F | null }, number>(
    (key) => [key.filter ?? null],
    (parentIds, key) => fetch(parentIds, key.filter ?? null),
    0,
  );
}

/** Groups rows that carry their parent's id in `__parent`. */
export function groupByParent<E>(
  rows: Record<string, unknown>[],
  toEntity: (row: Record<string, unknown>) => E,
): Map<string, E[]> {
  const groups = new Map<string, E[]>();
  for (const row of rows) {
    const parent = row.__parent as string;
    const list = groups.get(parent) ?? [];
    list.push(toEntity(row));
    groups.set(parent, list);
  }
  return groups;
}
