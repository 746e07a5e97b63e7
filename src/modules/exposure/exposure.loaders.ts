import { DataSource } from 'typeorm';
import { Viewer, clientScope } from '../../auth/viewer';
import { byIdLoader, childPageLoader, filteredCountLoader } from '../../common/loaders';
import { OrderColumn, SqlParams, childCountsQuery, childPagesQuery, hydrate } from '../../common/paging';
import { decodeIdOf } from '../../common/global-id';
import { ExposureEntity, ExposureLevel } from './exposure.entity';
import { ExposureFilter } from './exposure.inputs';

/** Highest score first. */
export const EXPOSURE_ORDER: OrderColumn<ExposureEntity>[] = [
  { sql: 't.score', cast: 'integer', value: (e) => e.score },
  { sql: 't.id', cast: 'uuid', value: (e) => e.id },
];

const LEVEL_FLOOR: Record<ExposureLevel, number> = { LOW: 0, MEDIUM: 25, HIGH: 50, CRITICAL: 75 };

/** A client-role viewer sees only its own exposures; the filter narrows further. Resolved ones are hidden unless asked for. */
export function exposureConditions(viewer: Viewer, filter: ExposureFilter | null | undefined, params: SqlParams, alias = 't'): string[] {
  const where: string[] = [];
  const scope = clientScope(viewer);
  if (scope) where.push(`${alias}.client_id = ${params.param(scope)}::uuid`);
  if (filter?.clientId) {
    const clientId = decodeIdOf('Client', filter.clientId);
    where.push(clientId ? `${alias}.client_id = ${params.param(clientId)}::uuid` : 'FALSE');
  }
  if (filter?.incidentId) {
    const incidentId = decodeIdOf('Incident', filter.incidentId);
    where.push(incidentId ? `${alias}.incident_id = ${params.param(incidentId)}::uuid` : 'FALSE');
  }
  if (filter?.minLevel) where.push(`${alias}.score >= ${LEVEL_FLOOR[filter.minLevel]}`);
  if (filter?.notificationStatus) where.push(`${alias}.notification_status = ${params.param(filter.notificationStatus)}`);
  if (!filter?.includeResolved) where.push(`${alias}.resolved_at IS NULL`);
  return where;
}

/** Filters travel inside DataLoader keys, so they are reduced to plain JSON first. */
export function plainFilter(filter: ExposureFilter | null | undefined): ExposureFilter | null {
  return filter ? { ...filter } : null;
}

export function createExposureLoaders(db: DataSource, viewer: Viewer) {
  const pagesBy = (parentColumn: string) =>
    childPageLoader<ExposureEntity, ExposureFilter>((parentIds, args, filter) => {
      const params = new SqlParams();
      return childPagesQuery(db, { entity: ExposureEntity, from: 'exposure t', where: exposureConditions(viewer, filter, params), params, order: EXPOSURE_ORDER, descending: true }, `t.${parentColumn}`, parentIds, args);
    });
  const countsBy = (parentColumn: string) =>
    filteredCountLoader<ExposureFilter>((parentIds, filter) => {
      const params = new SqlParams();
      return childCountsQuery(db, 'exposure t', exposureConditions(viewer, filter, params), params, `t.${parentColumn}`, parentIds);
    });
  return {
    /** By id, resolved or not: an ID someone holds keeps working. */
    exposureById: byIdLoader<ExposureEntity>(async (ids) => {
      const params = new SqlParams();
      const where = [`t.id = ANY(${params.param(ids)}::uuid[])`, ...exposureConditions(viewer, { includeResolved: true }, params)];
      const rows: Record<string, unknown>[] = await db.query(`SELECT t.* FROM exposure t WHERE ${where.join(' AND ')}`, params.values);
      return rows.map((row) => hydrate(db, ExposureEntity, row));
    }),
    exposurePagesByClient: pagesBy('client_id'),
    exposureCountsByClient: countsBy('client_id'),
    exposurePagesByIncident: pagesBy('incident_id'),
    exposureCountsByIncident: countsBy('incident_id'),
  };
}
