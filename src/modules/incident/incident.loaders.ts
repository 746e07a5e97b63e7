import { DataSource } from 'typeorm';
import { Viewer, clientScope } from '../../auth/viewer';
import { byIdLoader, childPageLoader, countLoader } from '../../common/loaders';
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
    incidentPagesBySupplier: childPageLoader<IncidentEntity>((supplierIds, args) => {
      const params = new SqlParams();
      return childPagesQuery(
        db,
        {
          entity: IncidentEntity,
          from: 'incident t',
          where: incidentVisibility(viewer, params),
          params,
          order: INCIDENT_ORDER,
          descending: true,
        },
        't.supplier_id',
        supplierIds,
        args,
      );
    }),
    incidentCountsBySupplier: countLoader((supplierIds) => {
      const params = new SqlParams();
      return childCountsQuery(
        db,
        'incident t',
        incidentVisibility(viewer, params),
        params,
        't.supplier_id',
        supplierIds,
      );
    }),
  };
}
