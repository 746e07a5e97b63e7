import { DataSource, EntityManager } from 'typeorm';
import { Viewer, requireRole } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { ConstraintMessages, lockForUpdate } from '../../common/mutation';
import { Connection, PageArgs, SqlParams, childConnection, pageQuery } from '../../common/paging';
import { UserError, UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid, assertValidFilter } from '../../common/validation';
import type { Context } from '../../context';
import { SupplierEntity } from '../supplier/supplier.entity';
import { IncidentEntity } from './incident.entity';
import { IncidentFilter, RecordIncidentInput, UpdateIncidentInput } from './incident.inputs';
import { INCIDENT_ORDER, incidentVisibility } from './incident.loaders';

export const INCIDENT_CONSTRAINTS: ConstraintMessages = {
  incident_started_before_detected: { field: ['input', 'startedAt'], message: 'startedAt must not be after detectedAt' },
  incident_contained_after_start: { field: ['input', 'containedAt'], message: 'containedAt must not be before the incident started' },
};

/** Recomputes the exposures of the given incidents inside the caller's transaction; returns how many changed. */
export type IncidentExposureHook = (manager: EntityManager, incidentIds: string[]) => Promise<number>;

export interface IncidentWrite {
  incident: IncidentEntity;
  exposuresChanged: number;
}

export class IncidentService {
  constructor(private readonly db: DataSource, private readonly recomputeExposures: IncidentExposureHook = async () => 0) {}

  list(viewer: Viewer, filter: IncidentFilter | null | undefined, page: PageArgs): Promise<Connection<IncidentEntity>> {
    assertValidFilter(IncidentFilter, filter);
    const params = new SqlParams();
    const where = incidentVisibility(viewer, params);
    if (filter?.supplierId) {
      const supplierId = decodeIdOf('Supplier', filter.supplierId);
      // An ID that names no supplier simply matches nothing, like any other filter value.
      where.push(supplierId ? `t.supplier_id = ${params.param(supplierId)}::uuid` : 'FALSE');
    }
    if (filter?.status) where.push(`t.status = ${params.param(filter.status)}`);
    return pageQuery(this.db, { entity: IncidentEntity, from: 'incident t', where, params, order: INCIDENT_ORDER, descending: true }, page);
  }

  pageForSupplier(ctx: Context, supplierId: string, page: PageArgs): Promise<Connection<IncidentEntity>> {
    return childConnection(ctx.loaders.incidentPagesBySupplier.load({ parentId: supplierId, ...page }), page, INCIDENT_ORDER, () => ctx.loaders.incidentCountsBySupplier.load(supplierId));
  }

  async record(viewer: Viewer, input: RecordIncidentInput): Promise<IncidentWrite> {
    requireRole(viewer, 'admin', 'analyst');
    await assertValid(input);
    checkTimes(input.startedAt ?? null, input.detectedAt, input.containedAt ?? null);
    return this.db.transaction(async (manager) => {
      const supplierId = decodeIdOf('Supplier', input.supplierId);
      if (!supplierId || !(await manager.existsBy(SupplierEntity, { id: supplierId }))) {
        throw new UserInputProblem([userError(['input', 'supplierId'], UserErrorCode.NOT_FOUND, 'No supplier has this ID')]);
      }
      const incident = await manager.save(manager.create(IncidentEntity, {
        supplierId,
        title: input.title.trim(),
        kind: input.kind,
        status: input.status,
        startedAt: input.startedAt ?? null,
        detectedAt: input.detectedAt,
        containedAt: input.containedAt ?? null,
        clientsNotifiedAt: input.clientsNotifiedAt ?? null,
        dataCategoriesAffected: input.dataCategoriesAffected ?? null,
        exfiltration: input.exfiltration,
        shareOfDataAffected: input.shareOfDataAffected == null ? null : String(input.shareOfDataAffected),
      }));
      const exposuresChanged = await this.recomputeExposures(manager, [incident.id]);
      return { incident, exposuresChanged };
    });
  }

  async update(viewer: Viewer, input: UpdateIncidentInput): Promise<IncidentWrite> {
    requireRole(viewer, 'admin', 'analyst');
    await assertValid(input);
    return this.db.transaction(async (manager) => {
      // FOR NO KEY UPDATE, not FOR UPDATE: the exposure engine of a concurrent register write inserts exposures
      // referencing this incident (a foreign-key KEY SHARE lock) while holding the engine lock we wait for next.
      const incident = await lockForUpdate(manager, IncidentEntity, 'Incident', input.id, { field: ['input', 'id'], message: 'No incident has this ID' }, 'for_no_key_update');
      if (input.title != null) incident.title = input.title.trim();
      if (input.kind != null) incident.kind = input.kind;
      if (input.status != null) incident.status = input.status;
      if (input.startedAt !== undefined) incident.startedAt = input.startedAt;
      if (input.detectedAt != null) incident.detectedAt = input.detectedAt;
      if (input.containedAt !== undefined) incident.containedAt = input.containedAt;
      if (input.clientsNotifiedAt !== undefined) incident.clientsNotifiedAt = input.clientsNotifiedAt;
      if (input.dataCategoriesAffected !== undefined) incident.dataCategoriesAffected = input.dataCategoriesAffected;
      if (input.exfiltration != null) incident.exfiltration = input.exfiltration;
      if (input.shareOfDataAffected !== undefined) incident.shareOfDataAffected = input.shareOfDataAffected === null ? null : String(input.shareOfDataAffected);
      checkTimes(incident.startedAt, incident.detectedAt, incident.containedAt);
      const saved = await manager.save(incident);
      const exposuresChanged = await this.recomputeExposures(manager, [incident.id]);
      return { incident: saved, exposuresChanged };
    });
  }
}

function checkTimes(startedAt: Date | null, detectedAt: Date, containedAt: Date | null): void {
  const problems: UserError[] = [];
  if (startedAt && startedAt > detectedAt) problems.push(userError(['input', 'startedAt'], UserErrorCode.INVALID, 'startedAt must not be after detectedAt'));
  if (containedAt && containedAt < (startedAt ?? detectedAt)) problems.push(userError(['input', 'containedAt'], UserErrorCode.INVALID, `containedAt must not be before the incident ${startedAt ? 'started' : 'was detected'}`));
  if (problems.length) throw new UserInputProblem(problems);
}
