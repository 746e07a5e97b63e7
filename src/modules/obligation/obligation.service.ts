import type { SimulatedExposureValue } from '../exposure/exposure.simulation';
import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer, forbidden } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid } from '../../common/validation';
import type { ClientLoaders } from '../client/client.loaders';
import type { ExposureLoaders } from '../exposure/exposure.loaders';
import type { ObligationLoaders } from './obligation.loaders';
import { ClientEntity } from '../client/client.entity';
import { ExposureEngine } from '../exposure/exposure.engine';
import { ExposureChangeReason, ExposureEntity } from '../exposure/exposure.entity';
import { RecordClientNoticeInput, RecordObligationTriggerInput } from './obligation.inputs';
import { ObligationValue, computeObligations } from './regimes';
import { obligationsOf, refreshObligationClocks, regimesOf } from './obligation.clock';

const notFound = (field: string, message: string) =>
  new UserInputProblem([userError(['input', field], UserErrorCode.NOT_FOUND, message)]);

export class ObligationService {
  constructor(
    private readonly connection: TransactionalConnection,
    private readonly engine: ExposureEngine,
  ) {}

  /**
   * Rule 5: records when a client was told (admin, analyst, or the client itself acknowledging), then
   * recomputes that client's exposure to the incident. A notice with a reason is a correction.
   */
  async recordClientNotice(viewer: Viewer, input: RecordClientNoticeInput): Promise<ExposureEntity | null> {
    await assertValid(input);
    const clientId = decodeIdOf('Client', input.clientId);
    if (viewer.role === 'client' && clientId !== viewer.clientId)
      throw notFound('clientId', 'No client you may see has this ID');
    if (input.noticeAt.getTime() > Date.now() + 60_000)
      throw new UserInputProblem([
        userError(['input', 'noticeAt'], UserErrorCode.INVALID, 'noticeAt must not be in the future'),
      ]);
    const incidentId = decodeIdOf('Incident', input.incidentId);
    return this.connection.transaction(async (manager) => {
      const [incident]: { id: string; status: string; detected_at: Date }[] = incidentId
        ? await manager.query(`SELECT id, status, detected_at FROM incident WHERE id = $1 FOR KEY SHARE`, [
            incidentId,
          ])
        : [];
      // A client sees only the incidents behind its own exposures.
      const visible =
        incident &&
        (viewer.role !== 'client' ||
          (await manager
            .query(`SELECT 1 FROM exposure WHERE incident_id = $1 AND client_id = $2`, [
              incident.id,
              clientId,
            ])
            .then((rows: unknown[]) => rows.length > 0)));
      if (!incident || !visible) throw notFound('incidentId', 'No incident you may see has this ID');
      const [client]: { id: string }[] = clientId
        ? await manager.query(`SELECT id FROM client WHERE id = $1 FOR KEY SHARE`, [clientId])
        : [];
      if (!client) throw notFound('clientId', 'No client has this ID');
      if (incident.status === 'CLOSED')
        throw new UserInputProblem([
          userError(
            ['input', 'incidentId'],
            UserErrorCode.CONFLICT,
            'This incident is CLOSED, so its exposures are no longer recomputed: reopen it first',
          ),
        ]);
      if (input.noticeAt < incident.detected_at)
        throw new UserInputProblem([
          userError(
            ['input', 'noticeAt'],
            UserErrorCode.INVALID,
            `noticeAt must not be before the incident was detected (${incident.detected_at.toISOString()})`,
          ),
        ]);
      const reason = input.reason?.trim() || null;
      await manager.query(
        `INSERT INTO client_notice (incident_id, client_id, notice_at, channel, note, reason, recorded_by_subject, recorded_by_role, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, statement_timestamp())`,
        [
          incident.id,
          client.id,
          input.noticeAt,
          input.channel?.trim() || null,
          input.note?.trim() || null,
          reason,
          viewer.subject,
          viewer.role,
        ],
      );
      await this.engine.recompute(
        manager,
        [incident.id],
        reason ? ExposureChangeReason.AWARENESS_CORRECTED : ExposureChangeReason.CLIENT_NOTIFIED,
        [client.id],
        reason,
      );
      return manager.findOne(ExposureEntity, { where: { incidentId: incident.id, clientId: client.id } });
    });
  }

  /** Records a trigger the register cannot know (admin, or the exposed client itself). */
  async recordObligationTrigger(
    viewer: Viewer,
    input: RecordObligationTriggerInput,
  ): Promise<ExposureEntity> {
    if (viewer.role === 'analyst')
      throw forbidden('Only an admin or the exposed client may record a trigger');
    await assertValid(input);
    if (input.triggeredAt.getTime() > Date.now() + 60_000)
      throw new UserInputProblem([
        userError(['input', 'triggeredAt'], UserErrorCode.INVALID, 'triggeredAt must not be in the future'),
      ]);
    const id = decodeIdOf('Exposure', input.exposureId);
    return this.connection.transaction(async (manager) => {
      const exposure = id ? await manager.findOne(ExposureEntity, { where: { id } }) : null;
      if (!exposure || (viewer.role === 'client' && exposure.clientId !== viewer.clientId))
        throw notFound('exposureId', 'No exposure you may see has this ID');
      const client = await manager.findOneByOrFail(ClientEntity, { id: exposure.clientId });
      if (!regimesOf(client).includes(input.regime))
        throw new UserInputProblem([
          userError(
            ['input', 'regime'],
            UserErrorCode.INVALID,
            `The client is not under ${input.regime} (its regimes: ${regimesOf(client).join(', ') || 'none'}); set Client.regimes first`,
          ),
        ]);
      if (input.triggeredAt < exposure.awareAt)
        throw new UserInputProblem([
          userError(
            ['input', 'triggeredAt'],
            UserErrorCode.INVALID,
            `triggeredAt must not be before the client was aware of the incident (${exposure.awareAt.toISOString()})`,
          ),
        ]);
      await manager.query(
        `INSERT INTO obligation_trigger (exposure_id, regime, triggered_at, reason, recorded_by_subject, recorded_by_role, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, statement_timestamp())`,
        [exposure.id, input.regime, input.triggeredAt, input.reason.trim(), viewer.subject, viewer.role],
      );
      await refreshObligationClocks(manager, [exposure.id], new Date());
      return manager.findOneByOrFail(ExposureEntity, { id: exposure.id });
    });
  }

  /**
   * The obligations a simulated exposure would start: those of an exposure recorded at the simulation's
   * moment, with no trigger recorded and no decision taken yet (what `obligations` answers for the
   * exposure recordIncident then writes, test/exposure/simulate.test.ts).
   */
  async simulatedObligations(
    loaders: ClientLoaders,
    exposure: SimulatedExposureValue,
  ): Promise<ObligationValue[]> {
    const client = await loaders.clientById.load(exposure.clientId);
    if (!client) throw new Error(`Client ${exposure.clientId} of a simulated exposure not found`);
    const high =
      (exposure.level === 'HIGH' || exposure.level === 'CRITICAL') &&
      exposure.dataCategoriesAtRisk.length > 0;
    return computeObligations(
      {
        regimes: regimesOf(client),
        awareAt: exposure.awareAt,
        dataAwareAt: exposure.dataAwareAt,
        highRiskSince: high ? exposure.computedAt : null,
        triggers: new Map(),
        decisions: new Map(),
      },
      new Date(),
    );
  }

  /** The exposure's obligations now, from its awareness moments, the recorded triggers and the decisions. */
  async obligations(
    loaders: ClientLoaders & ExposureLoaders & ObligationLoaders,
    exposure: ExposureEntity,
  ): Promise<ObligationValue[]> {
    const [client, triggers, decisions, history, factors] = await Promise.all([
      loaders.clientById.load(exposure.clientId),
      loaders.obligationTriggers.load(exposure.id),
      loaders.notificationDecisions.load(exposure.id),
      loaders.exposureHistory.load(exposure.id),
      exposure.factors ?? loaders.exposureFactors.load(exposure.id),
    ]);
    if (!client) throw new Error(`Client of exposure ${exposure.id} not found`);
    return obligationsOf(
      { exposure: { ...exposure, factors }, client, triggers, decisions, history },
      new Date(),
    );
  }
}
