import { EntityManager } from 'typeorm';
import { TransactionalConnection } from '../../db/transactional-connection';
import { IncidentStatus } from '../../common/enums';
import { ExposureChangeReason } from '../exposure/exposure.entity';
import { ExposureEngine } from '../exposure/exposure.engine';
import { Viewer, requireRole } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { ConstraintMessages, lockForUpdate } from '../../common/mutation';
import { Connection, PageArgs, SqlParams, childConnection, pageQuery } from '../../common/paging';
import { UserError, UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid, assertValidFilter } from '../../common/validation';
import { lockLiveSuppliers } from '../supplier/supplier.service';
import { Simulation } from '../exposure/exposure.simulation';
import type { SimulatedIncidentFacts } from '../exposure/exposure.engine';
import { IncidentEntity } from './incident.entity';
import {
  IncidentFilter,
  RecordIncidentInput,
  SimulateIncidentInput,
  UpdateIncidentInput,
} from './incident.inputs';
import {
  INCIDENT_ORDER,
  IncidentLoaders,
  incidentFilterConditions,
  incidentVisibility,
  plainIncidentFilter,
} from './incident.loaders';

export const INCIDENT_CONSTRAINTS: ConstraintMessages = {
  incident_started_before_detected: {
    field: ['input', 'startedAt'],
    message: 'startedAt must not be after detectedAt',
  },
  incident_contained_after_start: {
    field: ['input', 'containedAt'],
    message: 'containedAt must not be before the incident started',
  },
};

/** The facts of an incident that its exposures depend on (what the exposure engine reads); title and kind are not. */
const EXPOSURE_FACTS = [
  'startedAt',
  'detectedAt',
  'containedAt',
  'clientsNotifiedAt',
  'dataCategoriesAffected',
  'exfiltration',
  'shareOfDataAffected',
] as const;
type ExposureFact = (typeof EXPOSURE_FACTS)[number];

/** How far ahead of the server's clock a reported time may be (another machine's clock), in milliseconds. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface IncidentWrite {
  incident: IncidentEntity;
  exposuresChanged: number;
}

export class IncidentService {
  constructor(
    private readonly connection: TransactionalConnection,
    /** Recomputes, inside each write's transaction, the exposures of the incident written (and simulates them). */
    private readonly exposure: ExposureEngine,
  ) {}

  list(
    viewer: Viewer,
    filter: IncidentFilter | null | undefined,
    page: PageArgs,
  ): Promise<Connection<IncidentEntity>> {
    assertValidFilter(IncidentFilter, filter);
    const params = new SqlParams();
    const where = [...incidentVisibility(viewer, params), ...incidentFilterConditions(filter, params)];
    return pageQuery(
      this.connection.manager,
      { entity: IncidentEntity, from: 'incident t', where, params, order: INCIDENT_ORDER, descending: true },
      page,
    );
  }

  pageForSupplier(
    loaders: IncidentLoaders,
    supplierId: string,
    page: PageArgs,
    filter?: IncidentFilter | null,
  ): Promise<Connection<IncidentEntity>> {
    assertValidFilter(IncidentFilter, filter);
    const plain = plainIncidentFilter(filter);
    return childConnection(
      loaders.incidentPagesBySupplier.load({ parentId: supplierId, ...page, filter: plain }),
      page,
      INCIDENT_ORDER,
      () => loaders.incidentCountsBySupplier.load({ parentId: supplierId, filter: plain }),
    );
  }

  /**
   * What recording this incident would do to exposures, recording nothing: the same checks as record()
   * (role, input, times, a supplier in the register), then the engine's own computation over the facts
   * given (ExposureEngine.simulate). A read in effect: no incident, exposure, revision, alert or audit row.
   */
  async simulate(viewer: Viewer, input: SimulateIncidentInput): Promise<Simulation> {
    await checkRecordable(viewer, input);
    const supplierId = decodeIdOf('Supplier', input.supplierId);
    const live: unknown[] = supplierId
      ? await this.connection.manager.query(`SELECT 1 FROM supplier WHERE id = $1 AND removed_at IS NULL`, [
          supplierId,
        ])
      : [];
    if (!supplierId || live.length === 0) {
      throw new UserInputProblem([
        userError(['input', 'supplierId'], UserErrorCode.NOT_FOUND, 'No supplier has this ID'),
      ]);
    }
    const facts: SimulatedIncidentFacts = {
      supplierId,
      startedAt: input.startedAt ?? null,
      detectedAt: input.detectedAt,
      containedAt: input.containedAt ?? null,
      clientsNotifiedAt: input.clientsNotifiedAt ?? null,
      dataCategoriesAffected: input.dataCategoriesAffected ?? null,
      exfiltration: input.exfiltration,
      shareOfDataAffected: input.shareOfDataAffected == null ? null : String(input.shareOfDataAffected),
    };
    return new Simulation(facts, await this.exposure.simulate(this.connection, facts));
  }

  async record(viewer: Viewer, input: RecordIncidentInput): Promise<IncidentWrite> {
    await checkRecordable(viewer, input);
    return this.connection.transaction(async (manager) => {
      const supplierId = decodeIdOf('Supplier', input.supplierId);
      if (!supplierId || !(await lockLiveSupplierAgainstRemoval(manager, supplierId))) {
        throw new UserInputProblem([
          userError(['input', 'supplierId'], UserErrorCode.NOT_FOUND, 'No supplier has this ID'),
        ]);
      }
      const incident = await manager.save(
        manager.create(IncidentEntity, {
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
        }),
      );
      const { changed: exposuresChanged } = await this.exposure.recordNewIncident(manager, incident.id);
      return { incident, exposuresChanged };
    });
  }

  /**
   * Rule 11: a CLOSED incident is a closed record. An update that keeps it CLOSED may change only what its
   * exposures do not depend on (title, kind) and writes nothing to them; a change to a fact is refused
   * until it is reopened. Reopening (a status other than CLOSED) recomputes it, and its revisions say REOPENED.
   */
  async update(viewer: Viewer, input: UpdateIncidentInput): Promise<IncidentWrite> {
    requireRole(viewer, 'admin', 'analyst');
    await assertValid(input);
    if (input.detectedAt === null) {
      throw new UserInputProblem([
        userError(
          ['input', 'detectedAt'],
          UserErrorCode.INVALID,
          'detectedAt cannot be cleared: every incident has a detection time; give the corrected time, or leave it out to keep it',
        ),
      ]);
    }
    return this.connection.transaction(async (manager) => {
      // FOR NO KEY UPDATE, not FOR UPDATE: the exposure engine of a concurrent register write inserts exposures
      // referencing this incident (a foreign-key KEY SHARE lock) while holding the engine lock we wait for next.
      const incident = await lockForUpdate(
        manager,
        IncidentEntity,
        'Incident',
        input.id,
        { field: ['input', 'id'], message: 'No incident has this ID' },
        'for_no_key_update',
      );
      const before = { ...incident };
      if (input.title != null) incident.title = input.title.trim();
      if (input.kind != null) incident.kind = input.kind;
      if (input.status != null) incident.status = input.status;
      if (input.startedAt !== undefined) incident.startedAt = input.startedAt;
      if (input.detectedAt != null) incident.detectedAt = input.detectedAt;
      if (input.containedAt !== undefined) incident.containedAt = input.containedAt;
      if (input.clientsNotifiedAt !== undefined) incident.clientsNotifiedAt = input.clientsNotifiedAt;
      if (input.dataCategoriesAffected !== undefined)
        incident.dataCategoriesAffected = input.dataCategoriesAffected;
      if (input.exfiltration != null) incident.exfiltration = input.exfiltration;
      if (input.shareOfDataAffected !== undefined)
        incident.shareOfDataAffected =
          input.shareOfDataAffected === null ? null : String(input.shareOfDataAffected);
      checkTimes(incident);
      const stillClosed =
        before.status === IncidentStatus.CLOSED && incident.status === IncidentStatus.CLOSED;
      // An incident that is not CLOSED needs its supplier in the register: removeSupplier and a file import
      // refuse to remove a supplier with one, so reopening checks the supplier is still there, locked as
      // recordIncident locks it (a removal meanwhile either waits for this reopening, then sees it, or
      // commits first, and this answers the CONFLICT below; concurrency test (v)). The supplier table's lock
      // comes after this incident's row lock, which is safe: the one holder of a lock that conflicts with it
      // (a file import, SHARE ROW EXCLUSIVE) locks incident rows at most FOR KEY SHARE (its exposures'
      // foreign keys), which FOR NO KEY UPDATE does not block.
      if (
        before.status === IncidentStatus.CLOSED &&
        !stillClosed &&
        !(await lockLiveSupplierAgainstRemoval(manager, incident.supplierId))
      ) {
        throw new UserInputProblem([
          userError(
            ['input', 'status'],
            UserErrorCode.CONFLICT,
            "This incident's supplier was removed from the register, so the incident cannot be reopened: it stays CLOSED (its title and kind may still change). If the supplier is back in the register, record a new incident there",
          ),
        ]);
      }
      if (stillClosed) {
        const changed = EXPOSURE_FACTS.filter((fact) => !sameFact(fact, before[fact], incident[fact]));
        if (changed.length) {
          throw new UserInputProblem(
            changed.map((fact) =>
              userError(
                ['input', fact],
                UserErrorCode.CONFLICT,
                `This incident is CLOSED, so its exposures are no longer recomputed: reopen it (status SUSPECTED, CONFIRMED or CONTAINED) to change ${fact}`,
              ),
            ),
          );
        }
        return { incident: await manager.save(incident), exposuresChanged: 0 };
      }
      // Rule 5: clocks never move later silently. A later (or cleared) supplier notice that some client's
      // awareness came from is a correction: it needs a reason, and the engine then recomputes awareness.
      const correction = input.awarenessCorrectionReason?.trim() || null;
      const movedLater =
        before.clientsNotifiedAt !== null &&
        (incident.clientsNotifiedAt === null || incident.clientsNotifiedAt > before.clientsNotifiedAt) &&
        (
          await manager.query(`SELECT 1 FROM exposure WHERE incident_id = $1 AND aware_at = $2 LIMIT 1`, [
            incident.id,
            before.clientsNotifiedAt,
          ])
        ).length > 0;
      if (movedLater && !correction) {
        throw new UserInputProblem([
          userError(
            ['input', 'clientsNotifiedAt'],
            UserErrorCode.CONFLICT,
            "Moving clientsNotifiedAt later or clearing it would move clients' awareness and deadlines later: give awarenessCorrectionReason to correct it (the earlier value stays in history)",
          ),
        ]);
      }
      const saved = await manager.save(incident);
      const reason =
        before.status === IncidentStatus.CLOSED
          ? ExposureChangeReason.REOPENED
          : movedLater
            ? ExposureChangeReason.AWARENESS_CORRECTED
            : ExposureChangeReason.INCIDENT_UPDATED;
      const { changed: exposuresChanged } = await this.exposure.recompute(
        manager,
        [incident.id],
        reason,
        null,
        movedLater ? correction : null,
      );
      return { incident: saved, exposuresChanged };
    });
  }
}

/**
 * Whether the supplier is in the register, locked until the transaction ends so that no removal archives it
 * meanwhile: the supplier table's write lock (ROW EXCLUSIVE), then the row FOR KEY SHARE (lockLiveSuppliers).
 * The row lock holds off removeSupplier (FOR UPDATE), which then sees this transaction's open incident; the
 * table lock holds off a file import in mode=replace, which archives suppliers with a plain UPDATE that
 * FOR KEY SHARE does not wait for, and which locks the register's tables (SHARE ROW EXCLUSIVE, conflicting
 * with ROW EXCLUSIVE) before it reads which suppliers have an incident that is not CLOSED. The incident
 * table is not among those the import locks: without the supplier table's lock the import read the open
 * incidents before this one committed and archived its supplier (concurrency test (u)).
 */
async function lockLiveSupplierAgainstRemoval(manager: EntityManager, supplierId: string): Promise<boolean> {
  await manager.query(`LOCK TABLE supplier IN ROW EXCLUSIVE MODE`);
  return (await lockLiveSuppliers(manager, [supplierId])).has(supplierId);
}

function sameFact(
  fact: ExposureFact,
  a: IncidentEntity[ExposureFact],
  b: IncidentEntity[ExposureFact],
): boolean {
  if (a instanceof Date || b instanceof Date)
    return (a as Date | null)?.getTime() === (b as Date | null)?.getTime();
  // Categories are a set to the engine; null (not yet known) differs from [] (none affected).
  if (fact === 'dataCategoriesAffected')
    return (
      JSON.stringify(a && [...(a as string[])].sort()) === JSON.stringify(b && [...(b as string[])].sort())
    );
  // A decimal string: '0.04' as given equals '0.0400' as stored.
  if (fact === 'shareOfDataAffected')
    return (a === null ? null : Number(a)) === (b === null ? null : Number(b));
  return a === b;
}

/** What record() and simulate() check before anything runs: the role, the input, the times. */
async function checkRecordable(viewer: Viewer, input: RecordIncidentInput): Promise<void> {
  requireRole(viewer, 'admin', 'analyst');
  await assertValid(input);
  checkTimes({
    startedAt: input.startedAt ?? null,
    detectedAt: input.detectedAt,
    containedAt: input.containedAt ?? null,
    clientsNotifiedAt: input.clientsNotifiedAt ?? null,
    status: input.status,
  });
}

type IncidentTimes = Pick<
  IncidentEntity,
  'startedAt' | 'detectedAt' | 'containedAt' | 'clientsNotifiedAt' | 'status'
>;

/** Times that cannot be true are refused, on the field that states them (for an update: the merged old and new values). */
function checkTimes({ startedAt, detectedAt, containedAt, clientsNotifiedAt, status }: IncidentTimes): void {
  const problems: UserError[] = [];
  const latest = Date.now() + CLOCK_SKEW_MS;
  if (startedAt && startedAt.getTime() > latest)
    problems.push(
      userError(['input', 'startedAt'], UserErrorCode.INVALID, 'startedAt must not be in the future'),
    );
  else if (startedAt && startedAt > detectedAt)
    problems.push(
      userError(['input', 'startedAt'], UserErrorCode.INVALID, 'startedAt must not be after detectedAt'),
    );
  if (detectedAt.getTime() > latest)
    problems.push(
      userError(['input', 'detectedAt'], UserErrorCode.INVALID, 'detectedAt must not be in the future'),
    );
  if (containedAt && containedAt < (startedAt ?? detectedAt))
    problems.push(
      userError(
        ['input', 'containedAt'],
        UserErrorCode.INVALID,
        `containedAt must not be before the incident ${startedAt ? 'started' : 'was detected'}`,
      ),
    );
  if (status === IncidentStatus.CONTAINED && !containedAt)
    problems.push(
      userError(
        ['input', 'containedAt'],
        UserErrorCode.INVALID,
        'status CONTAINED needs containedAt: when was the incident contained?',
      ),
    );
  if (clientsNotifiedAt && clientsNotifiedAt < detectedAt)
    problems.push(
      userError(
        ['input', 'clientsNotifiedAt'],
        UserErrorCode.INVALID,
        'clientsNotifiedAt must not be before detectedAt: the supplier cannot tell its clients before it knew',
      ),
    );
  if (problems.length) throw new UserInputProblem(problems);
}
