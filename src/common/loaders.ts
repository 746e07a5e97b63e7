import DataLoader from 'dataloader';
import { PageArgs } from './connection';

export interface ChildPageKey<F = undefined> {
  parentId: string;
  first?: number | null;
  after?: string | null;
  /** Extra list arguments (a filter); keys with equal filters are batched together. */
  filter?: F | null;
}

/**
 * A DataLoader for "a page of children per parent". Keys with the same page arguments are fetched
 * together in one statement; different arguments (rare) make one statement per distinct pair.
 */
export function childPageLoader<E, F = undefined>(fetch: (parentIds: readonly string[], args: PageArgs, filter: F | null) => Promise<Map<string, E[]>>) {
  const groupKeyOf = (key: ChildPageKey<F>) => JSON.stringify([key.first ?? null, key.after ?? null, key.filter ?? null]);
  return new DataLoader<ChildPageKey<F>, E[], string>(
    async (keys) => {
      const groups = new Map<string, { key: ChildPageKey<F>; parentIds: string[] }>();
      for (const key of keys) {
        const group = groups.get(groupKeyOf(key)) ?? { key, parentIds: [] };
        group.parentIds.push(key.parentId);
        groups.set(groupKeyOf(key), group);
      }
      const results = new Map<string, E[] | Error>();
      for (const [groupKey, { key, parentIds }] of groups) {
        // Bad page arguments (first: 101, a foreign cursor) fail only the keys that carry them, not the whole batch.
        let pages: Map<string, E[]> | Error;
        try {
          pages = await fetch(parentIds, { first: key.first, after: key.after }, key.filter ?? null);
        } catch (error) {
          pages = error instanceof Error ? error : new Error(String(error));
        }
        for (const parentId of parentIds) results.set(JSON.stringify([parentId, groupKey]), pages instanceof Error ? pages : pages.get(parentId) ?? []);
      }
      return keys.map((key) => results.get(JSON.stringify([key.parentId, groupKeyOf(key)])) ?? []);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.parentId, groupKeyOf(key)]) },
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
export function filteredCountLoader<F>(fetch: (parentIds: readonly string[], filter: F | null) => Promise<Map<string, number>>) {
  const filterKey = (key: { filter?: F | null }) => JSON.stringify(key.filter ?? null);
  return new DataLoader<{ parentId: string; filter?: F | null }, number, string>(
    async (keys) => {
      const groups = new Map<string, { filter: F | null; parentIds: string[] }>();
      for (const key of keys) {
        const group = groups.get(filterKey(key)) ?? { filter: key.filter ?? null, parentIds: [] };
        group.parentIds.push(key.parentId);
        groups.set(filterKey(key), group);
      }
      const results = new Map<string, number>();
      for (const [groupKey, group] of groups) {
        const counts = await fetch(group.parentIds, group.filter);
        for (const parentId of group.parentIds) results.set(JSON.stringify([parentId, groupKey]), counts.get(parentId) ?? 0);
      }
      return keys.map((key) => results.get(JSON.stringify([key.parentId, filterKey(key)])) ?? 0);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.parentId, filterKey(key)]) },
  );
}

/** Groups rows that carry their parent's id in `__parent`. */
export function groupByParent<E>(rows: Record<string, unknown>[], toEntity: (row: Record<string, unknown>) => E): Map<string, E[]> {
  const groups = new Map<string, E[]>();
  for (const row of rows) {
    const parent = row.__parent as string;
    const list = groups.get(parent) ?? [];
    list.push(toEntity(row));
    groups.set(parent, list);
  }
  return groups;
}
