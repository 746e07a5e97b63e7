import { OrderDirection } from '../../common/order-direction';
import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer, forbidden } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { Connection, PageArgs, SqlParams, childConnection, pageQuery } from '../../common/paging';
import { UserError, UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid, assertValidFilter } from '../../common/validation';
import { ExposureEntity, ExposureRevisionEntity, NotificationStatus } from './exposure.entity';
import {
  ExposureFilter,
  ExposureOrder,
  ExposureOrderField,
  RecordNotificationDecisionInput,
} from './exposure.inputs';
import { ObligationMilestone, REGIMES, RegulatoryRegime } from '../obligation/regimes';
import { refreshObligationClocks } from '../obligation/obligation.clock';
import { lockExposureWrites } from './exposure.lock';
import {
  EXPOSURE_OPTIONAL_COLUMNS,
  exposureOrder,
  ExposureAsOfValue,
  ExposureLoaders,
  ExposureSummaryValue,
  exposureConditions,
  plainFilter,
} from './exposure.loaders';

export class ExposureService {
  constructor(private readonly connection: TransactionalConnection) {}

  /**
   * A page of the exposures the viewer may see (a client: its own), filtered and ordered. The obligation
   * filters (overdue, dueBefore) and the NEXT_DUE order are SQL over the stored next_due_at, so they page
   * like any other list; reports (CSV, board packs) can walk every page of the same call.
   */
  list(
    viewer: Viewer,
    filter: ExposureFilter | null | undefined,
    page: PageArgs,
    orderBy: ExposureOrder | null = null,
  ): Promise<Connection<ExposureEntity>> {
    assertValidFilter(ExposureFilter, filter);
    const params = new SqlParams();
    return pageQuery(
      this.connection.manager,
      {
        entity: ExposureEntity,
        from: 'exposure t',
        where: exposureConditions(viewer, filter, params),
        params,
        ...exposureOrder(orderBy),
      },
      page,
    );
  }

  /**
   * What needs action: the exposures with an open obligation overdue now (`overdue`) or due before a moment
   * (`dueBefore`), soonest deadline first unless ordered otherwise. The same as list() with those filters;
   * named for callers that build on it (reports), so the criteria stay one definition.
   */
  needingAction(
    viewer: Viewer,
    criteria: { overdue?: boolean; dueBefore?: Date } & Omit<ExposureFilter, 'overdue' | 'dueBefore'>,
    page: PageArgs,
    orderBy: ExposureOrder = { field: ExposureOrderField.NEXT_DUE, direction: OrderDirection.ASC },
  ): Promise<Connection<ExposureEntity>> {
    return this.list(viewer, Object.assign(new ExposureFilter(), criteria), page, orderBy);
  }

  /** `selected`: the fields asked for on each exposure, so the page reads only their columns (all when absent). */
  pageForClient(
    loaders: ExposureLoaders,
    clientId: string,
    page: PageArgs,
    filter: ExposureFilter | null | undefined,
    selected?: ReadonlySet<string>,
    orderBy: ExposureOrder | null = null,
  ): Promise<Connection<ExposureEntity>> {
    assertValidFilter(ExposureFilter, filter);
    const key = { parentId: clientId, filter: plainFilter(filter) };
    return childConnection(
      loaders.exposurePagesByClient.load({
        parentId: clientId,
        filter: { filter: plainFilter(filter), orderBy: orderBy ? { ...orderBy } : null },
        ...page,
        leaveOut: EXPOSURE_OPTIONAL_COLUMNS.leaveOutFor(selected),
      }),
      page,
      exposureOrder(orderBy).order,
      () => loaders.exposureCountsByClient.load(key),
    );
  }

  pageForIncident(
    loaders: ExposureLoaders,
    incidentId: string,
    page: PageArgs,
    filter: ExposureFilter | null | undefined,
    selected?: ReadonlySet<string>,
    orderBy: ExposureOrder | null = null,
  ): Promise<Connection<ExposureEntity>> {
    assertValidFilter(ExposureFilter, filter);
    const key = { parentId: incidentId, filter: plainFilter(filter) };
    return childConnection(
      loaders.exposurePagesByIncident.load({
        parentId: incidentId,
        filter: { filter: plainFilter(filter), orderBy: orderBy ? { ...orderBy } : null },
        ...page,
        leaveOut: EXPOSURE_OPTIONAL_COLUMNS.leaveOutFor(selected),
      }),
      page,
      exposureOrder(orderBy).order,
      () => loaders.exposureCountsByIncident.load(key),
    );
  }

  /** The incident-level figures, over the exposures the viewer may see (a client: only its own). */
  summary(loaders: ExposureLoaders, incidentId: string): Promise<ExposureSummaryValue> {
    return loaders.exposureSummaryByIncident.load(incidentId);
  }

  /** Every revision of an exposure, oldest first. */
  history(loaders: ExposureLoaders, exposureId: string): Promise<ExposureRevisionEntity[]> {
    return loaders.exposureHistory.load(exposureId);
  }

  /** Rule 10: what the register said about the exposure at `at` (null: it did not exist yet). */
  asOf(loaders: ExposureLoaders, exposureId: string, at: Date): Promise<ExposureAsOfValue | null> {
    return loaders.exposureAsOf.load({ exposureId, at: at.toISOString() });
  }

  /** Rule 9: admin, or the exposed client itself; REPORTED needs reportedAt, NOT_REQUIRED a justification. */
  async recordDecision(viewer: Viewer, input: RecordNotificationDecisionInput): Promise<ExposureEntity> {
    if (viewer.role === 'analyst')
      throw forbidden('Only an admin or the exposed client may record a notification decision');
    await assertValid(input);
    const problems: UserError[] = [];
    if (input.status === NotificationStatus.REPORTED && !input.reportedAt)
      problems.push(
        userError(
          ['input', 'reportedAt'],
          UserErrorCode.INVALID,
          'reportedAt is required when the status is REPORTED',
        ),
      );
    if (input.reportedAt && input.reportedAt.getTime() > Date.now() + 60_000)
      problems.push(
        userError(['input', 'reportedAt'], UserErrorCode.INVALID, 'reportedAt must not be in the future'),
      );
    if (input.status !== NotificationStatus.REPORTED && input.reportedAt)
      problems.push(
        userError(
          ['input', 'reportedAt'],
          UserErrorCode.INVALID,
          'reportedAt is only for the status REPORTED',
        ),
      );
    if (input.status === NotificationStatus.NOT_REQUIRED && !input.justification?.trim())
      problems.push(
        userError(
          ['input', 'justification'],
          UserErrorCode.INVALID,
          'A justification is required when no report is made (NOT_REQUIRED)',
        ),
      );
    const regime = input.regime ?? RegulatoryRegime.UK_GDPR;
    const milestone = input.milestone ?? ObligationMilestone.NOTIFICATION;
    const definition = REGIMES.find((r) => r.regime === regime)!;
    if (!definition.milestones.some((m) => m.milestone === milestone))
      problems.push(
        userError(
          ['input', 'milestone'],
          UserErrorCode.INVALID,
          `${regime} has no ${milestone}; its milestones: ${definition.milestones.map((m) => m.milestone).join(', ')}`,
        ),
      );
    if (problems.length) throw new UserInputProblem(problems);
    const art33 = regime === RegulatoryRegime.UK_GDPR && milestone === ObligationMilestone.NOTIFICATION;
    return this.connection.transaction(async (manager) => {
      const id = decodeIdOf('Exposure', input.exposureId);
      // The engine's lock first, then the row: a recomputation holding the lock writes this exposure (a
      // revision, a review flag, its clock), so a row lock taken before it would deadlock with it. Held to
      // commit, it also orders the decision with the engine's reads of notification_status and with the
      // clocks (refreshed below). FOR NO KEY UPDATE, not FOR UPDATE: a trigger recorded meanwhile takes
      // FOR KEY SHARE on this row (its foreign key) before it queues for the lock (test (o)).
      if (id) await lockExposureWrites(manager);
      const exposure = id
        ? await manager.findOne(ExposureEntity, { where: { id }, lock: { mode: 'for_no_key_update' } })
        : null;
      // Another client's exposure answers exactly like a missing one.
      if (!exposure || (viewer.role === 'client' && exposure.clientId !== viewer.clientId)) {
        throw new UserInputProblem([
          userError(['input', 'exposureId'], UserErrorCode.NOT_FOUND, 'No exposure you may see has this ID'),
        ]);
      }
      if (input.reportedAt) {
        const [{ began }]: { began: Date }[] = await manager.query(
          `SELECT coalesce(started_at, detected_at) AS began FROM incident WHERE id = $1`,
          [exposure.incidentId],
        );
        if (input.reportedAt < began) {
          throw new UserInputProblem([
            userError(
              ['input', 'reportedAt'],
              UserErrorCode.INVALID,
              `reportedAt must not be before the incident started (${began.toISOString()})`,
            ),
          ]);
        }
      }
      const [{ decided_at: decidedAt }] = await manager.query(
        `INSERT INTO notification_decision (exposure_id, status, reported_at, reference, justification, decided_by_subject, decided_by_role, decided_at,
                                            regime, milestone, facts, effects, remedial_action)
         VALUES ($1, $2, $3, $4, $5, $6, $7, statement_timestamp(), $8, $9, $10, $11, $12) RETURNING decided_at`,
        [
          exposure.id,
          input.status,
          input.reportedAt ?? null,
          input.reference?.trim() || null,
          input.justification?.trim() || null,
          viewer.subject,
          viewer.role,
          regime,
          milestone,
          input.facts?.trim() || null,
          input.effects?.trim() || null,
          input.remedialAction?.trim() || null,
        ],
      );
      // A decision opens, closes or starts obligations (MET starts the next milestone): the stored clock follows.
      await refreshObligationClocks(manager, [exposure.id], new Date(), { locked: true });
      const [{ next_due_at: nextDue, next_reminder_at: nextReminder }] = await manager.query(
        `SELECT next_due_at, next_reminder_at FROM exposure WHERE id = $1`,
        [exposure.id],
      );
      exposure.nextDueAt = nextDue;
      exposure.nextReminderAt = nextReminder;
      // The exposure's own notification columns are UK GDPR Art. 33's view; other obligations' decisions
      // live in notification_decision only.
      if (!art33) return exposure;
      exposure.reviewNeededAt = null;
      exposure.notificationStatus = input.status;
      exposure.notificationDecidedAt = decidedAt;
      exposure.notificationDecidedBy = viewer.subject;
      exposure.notificationReportedAt = input.reportedAt ?? null;
      exposure.notificationReference = input.reference?.trim() || null;
      exposure.notificationJustification = input.justification?.trim() || null;
      return manager.save(exposure);
    });
  }
}
