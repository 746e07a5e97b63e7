import { DataSource } from 'typeorm';
import { Viewer, clientScope } from '../../auth/viewer';
import { byIdLoader, childPageLoader, filteredCountLoader } from '../../common/loaders';
import { decodeIdOf } from '../../common/global-id';
import { IncidentFilter } from './incident.inputs';
import { SqlParams, childCountsQuery, childPagesQuery, hydrate, listOrder } from '../../common/paging';
import { IncidentEntity } from './incident.entity';

/** Most recently detected first. */
export const INCIDENT_ORDER = listOrder<IncidentEntity>('incidents', [
  { sql: 't.detected_at', cast: 'timestamptz', value: (i) => i.detectedAt.toISOString() },
  { sql: 't.id', cast: 'uuid', value: (i) => i.id },
]);

/** A client-role viewer sees only the incidents behind its own exposures. */
export function incidentVisibility(viewer: Viewer, params: SqlParams, alias = 't'): string[] {
  const scope = clientScope(viewer);
  return scope
    ? [
        `EXISTS (SELECT 1 FROM exposure e WHERE e.incident_id = ${alias}.id AND e.client_id = ${params.param(scope)}::uuid)`,
      ]
    : [];
}

/**
 * An IncidentFilter as SQL conditions (Query.incidents and Supplier.incidents alike). An ID that names no
 * supplier simply matches nothing, like any other filter value.
 */
export function incidentFilterConditions(
  filter: IncidentFilter | null | undefined,
  params: SqlParams,
  alias = 't',
): string[] {
  const where: string[] = [];
  if (filter?.supplierId) {
    const supplierId = decodeIdOf('Supplier', filter.supplierId);
    where.push(supplierId ? `${alias}.supplier_id = ${params.param(supplierId)}::uuid` : 'FALSE');
  }
  if (filter?.status) where.push(`${alias}.status = ${params.param(filter.status)}`);
  if (filter?.detectedFrom)
    where.push(`${alias}.detected_at >= ${params.param(new Date(filter.detectedFrom))}::timestamptz`);
  if (filter?.detectedBefore)
    where.push(`${alias}.detected_at < ${params.param(new Date(filter.detectedBefore))}::timestamptz`);
  return where;
}

/** Filters travel inside DataLoader keys, so they are reduced to plain JSON first. */
export function plainIncidentFilter(filter: IncidentFilter | null | undefined): IncidentFilter | null {
  if (!filter) return null;
  return {
    supplierId: filter.supplierId ?? null,
    status: filter.status ?? null,
    detectedFrom: filter.detectedFrom ? new Date(filter.detectedFrom).toISOString() : null,
    detectedBefore: filter.detectedBefore ? new Date(filter.detectedBefore).toISOString() : null,
  } as unknown as IncidentFilter;
}

export type IncidentLoaders = ReturnType<typeof createIncidentLoaders>;

export function createIncidentLoaders(db: DataSource, viewer: Viewer) {
  return {
    incidentById: byIdLoader<IncidentEntity>(async (ids) => {
      const params = new SqlParams();
      const where = [`t.id = ANY(${params.param(ids)}::uuid[])`, ...incidentVisibility(viewer, params)];
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT t.* FROM incident t WHERE ${where.join(' AND ')}`,
        params.values,
      );
      return rows.map((row) => hydrate(db, IncidentEntity, row));
    }),
    incidentPagesBySupplier: childPageLoader<IncidentEntity, IncidentFilter>((supplierIds, args, filter) => {
      const params = new SqlParams();
      return childPagesQuery(
        db,
        {
          entity: IncidentEntity,
          from: 'incident t',
          where: [...incidentVisibility(viewer, params), ...incidentFilterConditions(filter, params)],
          params,
          order: INCIDENT_ORDER,
          descending: true,
        },
        't.supplier_id',
        supplierIds,
        args,
      );
    }),
    incidentCountsBySupplier: filteredCountLoader<IncidentFilter>((supplierIds, filter) => {
      const params = new SqlParams();
      return childCountsQuery(
        db,
        'incident t',
        [...incidentVisibility(viewer, params), ...incidentFilterConditions(filter, params)],
        params,
        't.supplier_id',
        supplierIds,
      );
    }),
  };
}
