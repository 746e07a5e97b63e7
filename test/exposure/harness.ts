/**
 * Test harness for the exposure tests: a World writes a register through the services (the same
 * transactions and recomputation hooks as the API) and mirrors every write into a plain model that the
 * reference implementation (reference.ts) evaluates. verify() then compares the `exposure` table, its
 * revisions and its alerts with the model, field by field.
 */
import { DataSource, EntityManager } from 'typeorm';
import { DataCategory, ExfiltrationStatus, IncidentStatus, ServiceCriticality } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { UserInputProblem } from '../../src/common/user-error';
import { ExposureChangeReason } from '../../src/modules/exposure/exposure.entity';
import { Services } from '../../src/services';
import type { TestDatabase } from '../support/database';
import {
  FACTORY_ADMIN,
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';
import {
  Category,
  Criticality,
  DEADLINE_MS,
  Exfiltration,
  RefExposure,
  RefIncident,
  RefRegister,
  RefRegime,
  awareAtOf,
  dataAwareAtOf,
  earliest,
  expectedExposures,
  refDefaultRegimes,
  refNextDueAt,
  toldBySupplier,
} from './reference';
import { ClientSector } from '../../src/common/enums';
import { RegulatoryRegime } from '../../src/modules/obligation/regimes';

/**
 * Clients take turns through these, so random registers mix regimes (issue 13): the defaults of a UK
 * council and of an EU financial entity, and explicit sets with PECR, UK NIS and NIS2.
 */
const CLIENT_PROFILES: { sector: ClientSector; country: string; regimes: RefRegime[] | null }[] = [
  { sector: ClientSector.LOCAL_GOVERNMENT, country: 'GB', regimes: null },
  { sector: ClientSector.FINANCIAL_SERVICES, country: 'IE', regimes: null },
  { sector: ClientSector.PRIVATE, country: 'GB', regimes: ['UK_GDPR', 'PECR', 'UK_NIS'] },
  { sector: ClientSector.OTHER, country: 'DE', regimes: ['NIS2', 'EU_GDPR', 'DORA'] },
];

/** What the verifications have looked at, to show the random cases are not trivial. */
export const verifyStats = {
  checks: 0,
  rows: 0,
  resolved: 0,
  deep: 0,
  withData: 0,
  revisionsAbove1: 0,
  levels: {} as Record<string, number>,
  withNextDue: 0,
};

/** Every table the register and the engine write, children first (the order a DELETE must follow). */
export const TABLES_IN_FK_ORDER = [
  'exposure_alert',
  'exposure_revision',
  'notification_decision',
  'obligation_trigger',
  'obligation_reminder',
  'client_notice',
  'exposure',
  'incident',
  'agreement_subprocessor',
  'data_processing_agreement',
  'contract',
  'supplier_subprocessor',
  'client',
  'supplier',
];

/** Empties the register: much cheaper than a database per property run. */
export async function clearRegister(database: Pick<TestDatabase, 'asOwner'>): Promise<void> {
  // No parameters: one round trip, several statements (simple query protocol).
  // Alerts, revisions, decisions and the audit trail are append-only (triggers, and the API's role may not
  // delete from them at all); a test may bypass the triggers for its own cleanup as the owner, a superuser
  // in the tests, with session_replication_role = replica.
  await database.asOwner((owner) =>
    owner.query(
      [
        'SET session_replication_role = replica;',
        ...[...TABLES_IN_FK_ORDER, 'audit_event'].map((table) => `DELETE FROM ${table};`),
        'SET session_replication_role = DEFAULT;',
      ].join(' '),
    ),
  );
}

export interface DbExposure {
  id: string;
  incidentId: string;
  clientId: string;
  revision: number;
  score: number;
  level: string;
  factors: { name: string; detail: string; contribution: number }[];
  contractIds: string[];
  categories: string[];
  special: boolean;
  people: number;
  peopleLow: number;
  peopleHigh: number;
  path: string[];
  firstComputedAt: Date;
  awareAt: Date;
  dataAwareAt: Date | null;
  nextDueAt: Date | null;
  deadline: Date;
  computedAt: Date;
  resolvedAt: Date | null;
  lastChange: string;
  /** Rule 5's history: did revision 1 have data at risk, and when was the first revision with data at risk. */
  firstRevisionHadData: boolean;
  firstDataRevisionAt: Date | null;
  revisionNumbers: number[];
  revisionReasons: (string | null)[];
  alertKinds: string[];
  alertRevisions: number[];
}

export async function readExposures(db: DataSource | EntityManager): Promise<DbExposure[]> {
  const rows: any[] = await db.query(`
    SELECT e.id, e.incident_id, e.client_id, e.revision, e.score, e.level, e.factors, e.contract_ids::text[] AS contract_ids,
           e.data_categories_at_risk, e.special_category_data, e.data_subjects_at_risk::float8 AS people,
           e.data_subjects_at_risk_low::float8 AS people_low, e.data_subjects_at_risk_high::float8 AS people_high, e.path::text[] AS path,
           e.first_computed_at, e.aware_at, e.data_aware_at, e.next_due_at, e.notification_deadline, e.computed_at, e.resolved_at, e.last_change,
           coalesce((SELECT cardinality(r.data_categories_at_risk) > 0 FROM exposure_revision r WHERE r.exposure_id = e.id AND r.revision = 1), false) AS first_had_data,
           (SELECT min(r.recorded_at) FROM exposure_revision r WHERE r.exposure_id = e.id AND cardinality(r.data_categories_at_risk) > 0 AND r.resolved_at IS NULL) AS first_data_revision_at,
           coalesce((SELECT array_agg(r.revision ORDER BY r.revision) FROM exposure_revision r WHERE r.exposure_id = e.id), '{}') AS revision_numbers,
           coalesce((SELECT array_agg(r.reason ORDER BY r.revision) FROM exposure_revision r WHERE r.exposure_id = e.id), '{}') AS revision_reasons,
           coalesce((SELECT array_agg(a.kind ORDER BY a.id) FROM exposure_alert a WHERE a.exposure_id = e.id), '{}') AS alert_kinds,
           coalesce((SELECT array_agg(a.revision ORDER BY a.id) FROM exposure_alert a WHERE a.exposure_id = e.id), '{}') AS alert_revisions
    FROM exposure e ORDER BY e.incident_id, e.client_id`);
  return rows.map((r) => ({
    id: r.id,
    incidentId: r.incident_id,
    clientId: r.client_id,
    revision: r.revision,
    score: r.score,
    level: r.level,
    factors: r.factors,
    contractIds: r.contract_ids,
    categories: r.data_categories_at_risk,
    special: r.special_category_data,
    people: r.people,
    peopleLow: r.people_low,
    peopleHigh: r.people_high,
    path: r.path,
    firstComputedAt: r.first_computed_at,
    awareAt: r.aware_at,
    dataAwareAt: r.data_aware_at,
    nextDueAt: r.next_due_at,
    deadline: r.notification_deadline,
    firstRevisionHadData: r.first_had_data,
    firstDataRevisionAt: r.first_data_revision_at,
    computedAt: r.computed_at,
    resolvedAt: r.resolved_at,
    lastChange: r.last_change,
    revisionNumbers: r.revision_numbers,
    revisionReasons: r.revision_reasons,
    alertKinds: r.alert_kinds,
    alertRevisions: r.alert_revisions,
  }));
}

export interface ModelIncident extends RefIncident {
  status: IncidentStatus;
}

interface ModelExposure {
  incidentId: string;
  clientId: string;
  exp: RefExposure;
  /** null: not predicted (after writes run concurrently); taken from the database at the next verify. */
  revision: number | null;
  /** Why each revision was written (rule 11), oldest first; null when not predicted, like revision. */
  reasons: ExposureChangeReason[] | null;
  resolved: boolean;
  /** Known from the database once the exposure was first seen. */
  firstComputedAt: Date | null;
  /** awareAt as last written by the engine (resolution does not rewrite it). */
  awareAt: Date | null;
  /** Rule 5: the earliest moment the client was told (undefined: not known, after untracked writes). */
  toldFloor: Date | null | undefined;
  /** Rule 5: the earliest moment told while the exposure had data at risk (undefined: not known). */
  dataToldFloor: Date | null | undefined;
  /** Whether the first revision had data at risk (undefined: learnt from the database at the next verify). */
  firstHadData: boolean | undefined;
  /** When the first revision with data at risk was recorded, from the database (undefined: not read yet). */
  firstDataRevisionAt: Date | null | undefined;
}

const key = (incidentId: string, clientId: string) => `${incidentId}|${clientId}`;

/** The facts whose change makes the engine write a new revision (rule 8), awareAt aside. */
function sameFacts(a: RefExposure, b: RefExposure): boolean {
  return (
    a.score === b.score &&
    a.level === b.level &&
    a.people === b.people &&
    a.peopleLow === b.peopleLow &&
    a.peopleHigh === b.peopleHigh &&
    JSON.stringify([a.contractIds, a.path, a.categories, a.factors]) ===
      JSON.stringify([b.contractIds, b.path, b.categories, b.factors])
  );
}

export interface VerifyOptions {
  /** Writes since this instant may have computed new exposures: their first_computed_at must lie in [since, now]. */
  since: Date;
  /** Exposures the model does not know may exist if resolved (after untracked concurrent writes). */
  lenient?: boolean;
}

export interface ContractSpec {
  startsOn: string;
  endsOn: string | null;
  criticality: Criticality;
}

export interface AgreementSpec {
  categories: Category[];
  dataSubjectCount: number;
  dataRetainedUntil: string | null;
  subprocessorIds: string[];
}

/** An incident as the tests write it: the reference model's incident, before it has ids, plus its status. */
export type IncidentSpec = Omit<RefIncident, 'id' | 'supplierId'> & { status?: IncidentStatus };

export interface IncidentChange {
  containedAt?: Date | null;
  clientsNotifiedAt?: Date | null;
  dataCategoriesAffected?: Category[] | null;
  exfiltration?: Exfiltration;
  status?: IncidentStatus;
  shareOfDataAffectedBp?: number | null;
}

const sameTime = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);
const sameCategories = (a: Category[] | null, b: Category[] | null) =>
  JSON.stringify(a && [...a].sort()) === JSON.stringify(b && [...b].sort());

/**
 * Why updateIncident must refuse this change, in the model's words (null: it is accepted). Rule 11: a CLOSED
 * incident that stays CLOSED may not change what its exposures depend on; issue 11 item 9: CONTAINED needs a
 * containment time; an incident that is not CLOSED needs its supplier in the register (removal refuses a
 * supplier with one), so a CLOSED incident whose supplier was removed is not reopened. (The property test's
 * times are otherwise possible by construction.)
 */
export function refusalOf(before: ModelIncident, after: ModelIncident, supplierLive: boolean): string | null {
  if (after.status === IncidentStatus.CONTAINED && !after.containedAt) return 'CONTAINED without containedAt';
  const stillClosed = before.status === IncidentStatus.CLOSED && after.status === IncidentStatus.CLOSED;
  if (before.status === IncidentStatus.CLOSED && !stillClosed && !supplierLive)
    return 'a CLOSED incident reopened at a removed supplier';
  const factsChanged =
    !sameTime(before.containedAt, after.containedAt) ||
    !sameTime(before.clientsNotifiedAt, after.clientsNotifiedAt) ||
    !sameCategories(before.dataCategoriesAffected, after.dataCategoriesAffected) ||
    before.exfiltration !== after.exfiltration ||
    before.shareOfDataAffectedBp !== after.shareOfDataAffectedBp;
  return stillClosed && factsChanged ? 'a fact of a CLOSED incident changed without reopening it' : null;
}

/**
 * A register written through the services and mirrored into the reference model. Each write is one model
 * step (rule 7: incident writes recompute that incident, register writes every incident that is not CLOSED);
 * `untracked` writes (run concurrently) only update the register, and the next verify adopts the
 * database's revision numbers instead of predicting them.
 */
export class World {
  register: RefRegister = { suppliers: [], links: [], clients: [], contracts: [], agreements: [] };
  incidents = new Map<string, ModelIncident>();
  private model = new Map<string, ModelExposure>();
  private tracked = true;

  /**
   * @param today the UTC day (YYYY-MM-DD) the model computes as of (rule 2: nothing is exposed before it
   *   exists). Registers built around it should leave no contract starting today or tomorrow, so that a run
   *   crossing midnight UTC cannot make the engine and the model disagree.
   */
  constructor(
    readonly services: Services,
    readonly today: string = new Date().toISOString().slice(0, 10),
  ) {}

  /** Runs writes whose order is not known (e.g. concurrently): revisions are not predicted for them. */
  async untracked<T>(work: () => Promise<T>): Promise<T> {
    this.tracked = false;
    try {
      return await work();
    } finally {
      const open = [...this.incidents.values()]
        .filter((i) => i.status !== IncidentStatus.CLOSED)
        .map((i) => i.id);
      this.recompute(open, false, ExposureChangeReason.REGISTER_CHANGED);
      // Intermediate states may have written revisions the final state does not show: adopt the database's.
      for (const m of this.model.values()) {
        if (open.includes(m.incidentId)) {
          m.revision = null;
          m.reasons = null;
        }
      }
      this.tracked = true;
    }
  }

  async supplier(): Promise<string> {
    const supplier = await createSupplier(this.services);
    this.register.suppliers.push(supplier.id);
    return supplier.id;
  }

  /** Each client's profile (CLIENT_PROFILES), for the obligations the model expects. */
  readonly clientProfiles = new Map<string, (typeof CLIENT_PROFILES)[number]>();

  private clientsMade = 0;

  async client(): Promise<string> {
    // Counted before the first await: clients are made concurrently (Promise.all).
    const profile = CLIENT_PROFILES[this.clientsMade++ % CLIENT_PROFILES.length];
    const client = await createClient(this.services, {
      sector: profile.sector,
      country: profile.country,
      ...(profile.regimes ? { regimes: profile.regimes as RegulatoryRegime[] } : {}),
    });
    this.register.clients.push(client.id);
    this.clientProfiles.set(client.id, profile);
    return client.id;
  }

  async link(supplierId: string, subprocessorId: string): Promise<void> {
    await linkSubprocessor(this.services, supplierId, subprocessorId);
    this.register.links.push({ supplierId, subprocessorId });
    this.registerChanged();
  }

  async unlink(supplierId: string, subprocessorId: string): Promise<void> {
    await this.services.supplier.removeSubprocessor(FACTORY_ADMIN, {
      supplierId: encodeGlobalId('Supplier', supplierId),
      subprocessorId: encodeGlobalId('Supplier', subprocessorId),
    });
    this.register.links = this.register.links.filter(
      (l) => !(l.supplierId === supplierId && l.subprocessorId === subprocessorId),
    );
    this.registerChanged();
  }

  async contract(clientId: string, supplierId: string, spec: ContractSpec): Promise<string> {
    const contract = await createContract(this.services, clientId, supplierId, {
      startsOn: spec.startsOn,
      endsOn: spec.endsOn,
      criticality: spec.criticality as ServiceCriticality,
    });
    this.register.contracts.push({ id: contract.id, clientId, supplierId, ...spec });
    this.registerChanged();
    return contract.id;
  }

  async updateContract(contractId: string, change: Partial<ContractSpec>): Promise<void> {
    await this.services.contract.update(FACTORY_ADMIN, {
      id: encodeGlobalId('Contract', contractId),
      ...(change.startsOn !== undefined ? { startsOn: change.startsOn } : {}),
      ...(change.endsOn !== undefined ? { endsOn: change.endsOn } : {}),
      ...(change.criticality !== undefined ? { criticality: change.criticality as ServiceCriticality } : {}),
    });
    Object.assign(
      this.register.contracts.find((c) => c.id === contractId)!,
      change,
    );
    this.registerChanged();
  }

  /** Archives the contract and its agreements (rule 10): the model forgets them, as the engine ignores them. */
  async removeContract(contractId: string): Promise<void> {
    await this.services.contract.remove(FACTORY_ADMIN, { id: encodeGlobalId('Contract', contractId) });
    this.register.contracts = this.register.contracts.filter((c) => c.id !== contractId);
    this.register.agreements = this.register.agreements.filter((a) => a.contractId !== contractId);
    this.registerChanged();
  }

  /** Archives one agreement (rule 10). */
  async removeAgreement(agreementId: string): Promise<void> {
    await this.services.agreement.remove(FACTORY_ADMIN, {
      id: encodeGlobalId('DataProcessingAgreement', agreementId),
    });
    this.register.agreements = this.register.agreements.filter((a) => a.id !== agreementId);
    this.registerChanged();
  }

  /** Why removeSupplier must refuse (null: it is allowed): live contracts, an open incident, or something relying on it. */
  supplierRemovalBlocker(supplierId: string): string | null {
    if (this.register.contracts.some((c) => c.supplierId === supplierId)) return 'contracts';
    if (
      [...this.incidents.values()].some(
        (i) => i.supplierId === supplierId && i.status !== IncidentStatus.CLOSED,
      )
    )
      return 'an open incident';
    if (this.register.links.some((l) => l.subprocessorId === supplierId)) return 'a supplier relying on it';
    if (this.register.agreements.some((a) => a.subprocessorIds.includes(supplierId)))
      return 'an agreement relying on it';
    return null;
  }

  /**
   * Archives a supplier when the model says it may go (with its own supplier-level links, which carried no
   * exposure, so nothing is recomputed); otherwise checks the service refuses. Returns whether it was removed.
   * A removed supplier leaves register.suppliers: a generator must not use it again (the API answers NOT_FOUND).
   */
  async removeSupplier(supplierId: string): Promise<boolean> {
    const blocker = this.supplierRemovalBlocker(supplierId);
    try {
      await this.services.supplier.remove(FACTORY_ADMIN, { id: encodeGlobalId('Supplier', supplierId) });
    } catch (error) {
      if (!(error instanceof UserInputProblem) || !blocker) throw error;
      return false;
    }
    if (blocker) throw new Error(`removeSupplier accepted a supplier with ${blocker}`);
    this.register.suppliers = this.register.suppliers.filter((id) => id !== supplierId);
    this.register.links = this.register.links.filter((l) => l.supplierId !== supplierId);
    return true;
  }

  async agreement(contractId: string, spec: AgreementSpec): Promise<string> {
    const agreement = await createAgreement(this.services, contractId, {
      dataCategories: spec.categories as DataCategory[],
      dataSubjectCount: spec.dataSubjectCount,
      dataRetainedUntil: spec.dataRetainedUntil,
      subprocessorIds: spec.subprocessorIds,
    });
    this.register.agreements.push({
      id: agreement.id,
      contractId,
      categories: [...spec.categories],
      dataSubjectCount: spec.dataSubjectCount,
      dataRetainedUntil: spec.dataRetainedUntil,
      subprocessorIds: [...spec.subprocessorIds],
    });
    this.registerChanged();
    return agreement.id;
  }

  async updateAgreement(agreementId: string, change: Partial<AgreementSpec>): Promise<void> {
    await this.services.agreement.update(FACTORY_ADMIN, {
      id: encodeGlobalId('DataProcessingAgreement', agreementId),
      ...(change.categories ? { dataCategories: change.categories as DataCategory[] } : {}),
      ...(change.dataSubjectCount !== undefined ? { dataSubjectCount: change.dataSubjectCount } : {}),
      ...(change.dataRetainedUntil !== undefined ? { dataRetainedUntil: change.dataRetainedUntil } : {}),
      ...(change.subprocessorIds
        ? { subprocessorIds: change.subprocessorIds.map((id) => encodeGlobalId('Supplier', id)) }
        : {}),
    });
    const agreement = this.register.agreements.find((a) => a.id === agreementId)!;
    if (change.categories) agreement.categories = [...change.categories];
    if (change.dataSubjectCount !== undefined) agreement.dataSubjectCount = change.dataSubjectCount;
    if (change.dataRetainedUntil !== undefined) agreement.dataRetainedUntil = change.dataRetainedUntil;
    if (change.subprocessorIds) agreement.subprocessorIds = [...change.subprocessorIds];
    this.registerChanged();
  }

  /** Records an incident; returns its id and the engine's exposuresChanged next to the model's. */
  async recordIncident(
    supplierId: string,
    spec: IncidentSpec,
  ): Promise<{ id: string; exposuresChanged: number; expectedChanged: number | null }> {
    const status = spec.status ?? IncidentStatus.CONFIRMED;
    const { incident, exposuresChanged } = await recordIncident(this.services, supplierId, {
      startedAt: spec.startedAt,
      detectedAt: spec.detectedAt,
      containedAt: spec.containedAt,
      clientsNotifiedAt: spec.clientsNotifiedAt,
      dataCategoriesAffected: spec.dataCategoriesAffected as DataCategory[] | null,
      exfiltration: spec.exfiltration as ExfiltrationStatus,
      status,
      shareOfDataAffected: spec.shareOfDataAffectedBp == null ? null : spec.shareOfDataAffectedBp / 10_000,
    });
    this.incidents.set(incident.id, {
      id: incident.id,
      supplierId,
      ...spec,
      status,
      dataCategoriesAffected: spec.dataCategoriesAffected ? [...spec.dataCategoriesAffected] : null,
    });
    const expectedChanged = this.tracked
      ? this.recompute([incident.id], true, ExposureChangeReason.INCIDENT_RECORDED)
      : null;
    return { id: incident.id, exposuresChanged, expectedChanged };
  }

  /**
   * Rule 11 in the model: an update that keeps a CLOSED incident CLOSED recomputes nothing (and one changing its
   * facts is refused, see refusalOf); reopening recomputes it with reason REOPENED. `refused`: the service
   * refused it, as the model predicted (nothing changed).
   */
  async updateIncident(
    incidentId: string,
    change: IncidentChange,
  ): Promise<{ exposuresChanged: number; expectedChanged: number | null; refused: boolean }> {
    const incident = this.incidents.get(incidentId)!;
    const after: ModelIncident = { ...incident };
    if (change.containedAt !== undefined) after.containedAt = change.containedAt;
    if (change.clientsNotifiedAt !== undefined) after.clientsNotifiedAt = change.clientsNotifiedAt;
    if (change.dataCategoriesAffected !== undefined)
      after.dataCategoriesAffected = change.dataCategoriesAffected
        ? [...change.dataCategoriesAffected]
        : null;
    if (change.exfiltration !== undefined) after.exfiltration = change.exfiltration;
    if (change.status !== undefined) after.status = change.status;
    if (change.shareOfDataAffectedBp !== undefined)
      after.shareOfDataAffectedBp = change.shareOfDataAffectedBp;
    const refusal = refusalOf(incident, after, this.register.suppliers.includes(incident.supplierId));
    // Rule 5: a later or cleared supplier notice that some client's awareness came from is a correction.
    const movedLater =
      incident.clientsNotifiedAt !== null &&
      (after.clientsNotifiedAt === null || after.clientsNotifiedAt > incident.clientsNotifiedAt) &&
      [...this.model.values()].some(
        (m) => m.incidentId === incidentId && m.awareAt?.getTime() === incident.clientsNotifiedAt!.getTime(),
      );
    const { shareOfDataAffectedBp, ...facts } = change;
    let exposuresChanged: number;
    try {
      ({ exposuresChanged } = await this.services.incident.update(FACTORY_ADMIN, {
        id: encodeGlobalId('Incident', incidentId),
        ...facts,
        ...(change.clientsNotifiedAt !== undefined
          ? { awarenessCorrectionReason: 'Property test correction' }
          : {}),
        dataCategoriesAffected: change.dataCategoriesAffected as DataCategory[] | null | undefined,
        exfiltration: change.exfiltration as ExfiltrationStatus | undefined,
        ...(shareOfDataAffectedBp !== undefined
          ? { shareOfDataAffected: shareOfDataAffectedBp === null ? null : shareOfDataAffectedBp / 10_000 }
          : {}),
      }));
    } catch (error) {
      if (!(error instanceof UserInputProblem) || !refusal) throw error;
      return { exposuresChanged: 0, expectedChanged: 0, refused: true };
    }
    if (refusal)
      throw new Error(`updateIncident accepted what it must refuse (${refusal}): ${JSON.stringify(change)}`);
    const wasClosed = incident.status === IncidentStatus.CLOSED;
    Object.assign(incident, after);
    let expectedChanged: number | null = null;
    if (this.tracked) {
      expectedChanged =
        wasClosed && after.status === IncidentStatus.CLOSED
          ? 0
          : this.recompute(
              [incidentId],
              true,
              wasClosed
                ? ExposureChangeReason.REOPENED
                : movedLater
                  ? ExposureChangeReason.AWARENESS_CORRECTED
                  : ExposureChangeReason.INCIDENT_UPDATED,
              movedLater,
            );
    }
    return { exposuresChanged, expectedChanged, refused: false };
  }

  private registerChanged(): void {
    if (!this.tracked) return;
    this.recompute(
      [...this.incidents.values()].filter((i) => i.status !== IncidentStatus.CLOSED).map((i) => i.id),
      true,
      ExposureChangeReason.REGISTER_CHANGED,
    );
  }

  /** One engine run in the model, for `reason`; returns how many exposures appear, change or resolve. */
  private recompute(
    incidentIds: string[],
    predictRevisions: boolean,
    reason: ExposureChangeReason,
    correction = false,
  ): number {
    let changed = 0;
    const now = new Date();
    // A notice counts for personal data when the exposure had data at risk then: the generated notices lie
    // before the first computation (judged by the first revision) or far in the future (never the earliest).
    const dataTold = (told: Date | null, firstHadData: boolean) =>
      told !== null && told <= now && firstHadData ? told : null;
    for (const incidentId of incidentIds) {
      const incident = this.incidents.get(incidentId)!;
      const fresh = expectedExposures(this.register, incident, this.today);
      for (const [clientId, exp] of fresh) {
        const told = toldBySupplier(incident.clientsNotifiedAt, exp);
        const prev = this.model.get(key(incidentId, clientId));
        if (!prev) {
          this.model.set(key(incidentId, clientId), {
            incidentId,
            clientId,
            exp,
            revision: predictRevisions ? 1 : null,
            reasons: predictRevisions ? [reason] : null,
            resolved: false,
            firstComputedAt: null,
            awareAt: null,
            // Writes the model did not follow (predictRevisions false) may have shown other states first:
            // what the client was told, and with what data, is then learnt from the database.
            toldFloor: predictRevisions ? told : undefined,
            dataToldFloor: predictRevisions ? dataTold(told, exp.categories.length > 0) : undefined,
            firstHadData: predictRevisions ? exp.categories.length > 0 : undefined,
            firstDataRevisionAt: undefined,
          });
          changed += 1;
          continue;
        }
        // Rule 5: awareness only moves earlier, except under a correction, which starts again from what is told now.
        const knownBefore =
          predictRevisions && prev.toldFloor !== undefined && prev.dataToldFloor !== undefined;
        const toldFloor = correction ? told : knownBefore ? earliest(prev.toldFloor!, told) : undefined;
        const newDataTold = prev.firstHadData === undefined ? undefined : dataTold(told, prev.firstHadData);
        const dataToldFloor =
          newDataTold === undefined
            ? undefined
            : correction
              ? newDataTold
              : knownBefore
                ? earliest(prev.dataToldFloor!, newDataTold)
                : undefined;
        const awareAt =
          prev.firstComputedAt && toldFloor !== undefined ? awareAtOf(toldFloor, prev.firstComputedAt) : null;
        const awareChanged =
          awareAt !== null && prev.awareAt !== null && awareAt.getTime() !== prev.awareAt.getTime();
        const dataAwareBefore =
          knownBefore && prev.firstDataRevisionAt !== undefined
            ? dataAwareAtOf(prev.dataToldFloor!, prev.firstDataRevisionAt)
            : undefined;
        const dataAwareAfter =
          dataToldFloor !== undefined && prev.firstDataRevisionAt !== undefined
            ? dataAwareAtOf(dataToldFloor, prev.firstDataRevisionAt)
            : undefined;
        const dataAwareChanged =
          dataAwareBefore !== undefined &&
          dataAwareAfter !== undefined &&
          (dataAwareBefore?.getTime() ?? null) !== (dataAwareAfter?.getTime() ?? null);
        prev.toldFloor = toldFloor;
        prev.dataToldFloor = dataToldFloor;
        if (prev.resolved || !sameFacts(prev.exp, exp) || awareChanged || dataAwareChanged) {
          prev.exp = exp;
          prev.resolved = false;
          prev.awareAt = awareAt;
          prev.revision = predictRevisions && prev.revision !== null ? prev.revision + 1 : null;
          prev.reasons = predictRevisions && prev.reasons !== null ? [...prev.reasons, reason] : null;
          changed += 1;
        }
      }
      for (const prev of this.model.values()) {
        if (prev.incidentId === incidentId && !prev.resolved && !fresh.has(prev.clientId)) {
          prev.resolved = true;
          prev.revision = predictRevisions && prev.revision !== null ? prev.revision + 1 : null;
          prev.reasons = predictRevisions && prev.reasons !== null ? [...prev.reasons, reason] : null;
          changed += 1;
        }
      }
    }
    return changed;
  }

  /**
   * Compares the database with the model; returns every difference (empty: they agree). Also checks the
   * invariants of rules 5, 7, 8 and 10 on every row: deadline = awareAt + 72h, revisions 1..n each with
   * one alert, the first alert NEW, resolved rows end with a RESOLVED alert, nothing is ever deleted.
   */
  async verify(db: DataSource | EntityManager, options: VerifyOptions): Promise<string[]> {
    const until = new Date(Date.now() + 1000);
    const since = new Date(options.since.getTime() - 1000);
    const rows = await readExposures(db);
    const problems: string[] = [];
    const seen = new Set<string>();
    verifyStats.checks += 1;
    for (const row of rows) {
      verifyStats.rows += 1;
      if (row.resolvedAt) verifyStats.resolved += 1;
      if (row.path.length > 1) verifyStats.deep += 1;
      if (row.categories.length > 0) verifyStats.withData += 1;
      if (row.revision > 1) verifyStats.revisionsAbove1 += 1;
      verifyStats.levels[row.level] = (verifyStats.levels[row.level] ?? 0) + 1;
      const k = key(row.incidentId, row.clientId);
      seen.add(k);
      const where = `exposure(incident ${row.incidentId.slice(0, 8)}, client ${row.clientId.slice(0, 8)})`;
      const m = this.model.get(k);
      if (!m) {
        if (options.lenient && row.resolvedAt) continue;
        problems.push(`${where}: not expected, found ${JSON.stringify(summary(row))}`);
        continue;
      }
      if (m.resolved !== (row.resolvedAt !== null))
        problems.push(
          `${where}: expected ${m.resolved ? 'resolved' : 'unresolved'}, found ${row.resolvedAt ? 'resolved' : 'unresolved'} ${JSON.stringify(summary(row))} expected ${JSON.stringify(m.exp)}`,
        );
      if (!m.resolved || !options.lenient) {
        const actual = {
          contractIds: row.contractIds,
          path: row.path,
          categories: row.categories,
          people: row.people,
          peopleLow: row.peopleLow,
          peopleHigh: row.peopleHigh,
          special: row.special,
          score: row.score,
          level: row.level,
          factors: row.factors.map((f) => ({ name: f.name, contribution: f.contribution })),
        };
        const expected = {
          contractIds: m.exp.contractIds,
          path: m.exp.path,
          categories: m.exp.categories,
          people: m.exp.people,
          peopleLow: m.exp.peopleLow,
          peopleHigh: m.exp.peopleHigh,
          special: m.exp.special,
          score: m.exp.score,
          level: m.exp.level,
          factors: m.exp.factors,
        };
        if (JSON.stringify(actual) !== JSON.stringify(expected))
          problems.push(
            `${where}: values differ\n  expected ${JSON.stringify(expected)}\n  actual   ${JSON.stringify(actual)}`,
          );
      }
      if (m.revision !== null && m.revision !== row.revision)
        problems.push(`${where}: expected revision ${m.revision}, found ${row.revision}`);
      if (m.reasons !== null && JSON.stringify(m.reasons) !== JSON.stringify(row.revisionReasons))
        problems.push(
          `${where}: expected revision reasons ${JSON.stringify(m.reasons)}, found ${JSON.stringify(row.revisionReasons)}`,
        );
      // Rule 5: awareAt and the deadline.
      if (m.firstComputedAt === null) {
        if (row.firstComputedAt < since || row.firstComputedAt > until)
          problems.push(
            `${where}: first_computed_at ${row.firstComputedAt.toISOString()} outside the writes' time [${since.toISOString()}, ${until.toISOString()}]`,
          );
      } else if (m.firstComputedAt.getTime() !== row.firstComputedAt.getTime()) {
        problems.push(
          `${where}: first_computed_at changed from ${m.firstComputedAt.toISOString()} to ${row.firstComputedAt.toISOString()}`,
        );
      }
      if (m.firstHadData === undefined) m.firstHadData = row.firstRevisionHadData;
      if (m.toldFloor !== undefined) {
        const awareAt = awareAtOf(m.toldFloor, row.firstComputedAt);
        if (row.awareAt.getTime() !== awareAt.getTime())
          problems.push(
            `${where}: awareAt ${row.awareAt.toISOString()}, expected ${awareAt.toISOString()} (told ${m.toldFloor?.toISOString() ?? 'never'}, first computed ${row.firstComputedAt.toISOString()})`,
          );
      }
      if (m.dataToldFloor !== undefined) {
        const dataAwareAt = dataAwareAtOf(m.dataToldFloor, row.firstDataRevisionAt);
        if ((row.dataAwareAt?.getTime() ?? null) !== (dataAwareAt?.getTime() ?? null))
          problems.push(
            `${where}: dataAwareAt ${row.dataAwareAt?.toISOString() ?? 'null'}, expected ${dataAwareAt?.toISOString() ?? 'null'} (told with data ${m.dataToldFloor?.toISOString() ?? 'never'}, first revision with data ${row.firstDataRevisionAt?.toISOString() ?? 'none'})`,
          );
      }
      // Issue 13: the stored next due time is the model's, from the rules' text (no triggers or decisions
      // here; Art. 34 has no fixed time, so it cannot move it).
      const profile = this.clientProfiles.get(row.clientId);
      if (profile) {
        const expectedNextDue = refNextDueAt({
          regimes: profile.regimes ?? refDefaultRegimes(profile.sector, profile.country),
          awareAt: row.awareAt,
          dataAwareAt: row.dataAwareAt,
          highRiskSince: null,
          triggers: {},
          decisions: {},
        });
        if ((row.nextDueAt?.getTime() ?? null) !== (expectedNextDue?.getTime() ?? null))
          problems.push(
            `${where}: nextDueAt ${row.nextDueAt?.toISOString() ?? 'null'}, the model says ${expectedNextDue?.toISOString() ?? 'null'} (regimes ${JSON.stringify(profile.regimes ?? profile.country)}, aware ${row.awareAt.toISOString()}, data aware ${row.dataAwareAt?.toISOString() ?? 'null'})`,
          );
        verifyStats.withNextDue += row.nextDueAt ? 1 : 0;
      }
      // UK GDPR Art. 33: 72 hours from awareness of the personal data breach (of the incident while none).
      const clockStart = row.dataAwareAt ?? row.awareAt;
      if (row.deadline.getTime() !== clockStart.getTime() + DEADLINE_MS)
        problems.push(
          `${where}: deadline ${row.deadline.toISOString()} is not (dataAwareAt ?? awareAt) + 72h`,
        );
      // Rules 8 and 10: one revision row and one alert per revision.
      const oneToN = Array.from({ length: row.revision }, (_, i) => i + 1);
      if (JSON.stringify(row.revisionNumbers) !== JSON.stringify(oneToN))
        problems.push(
          `${where}: revision rows ${JSON.stringify(row.revisionNumbers)} for revision ${row.revision}`,
        );
      if (JSON.stringify(row.alertRevisions) !== JSON.stringify(oneToN))
        problems.push(
          `${where}: alerts for revisions ${JSON.stringify(row.alertRevisions)} for revision ${row.revision}`,
        );
      if (row.alertKinds[0] !== 'NEW')
        problems.push(`${where}: first alert ${row.alertKinds[0]}, expected NEW`);
      const lastKind = row.alertKinds[row.alertKinds.length - 1];
      if ((lastKind === 'RESOLVED') !== (row.resolvedAt !== null))
        problems.push(
          `${where}: last alert ${lastKind} but resolved_at ${row.resolvedAt?.toISOString() ?? 'null'}`,
        );
      if (row.lastChange !== lastKind)
        problems.push(`${where}: last_change ${row.lastChange}, but the last alert is ${lastKind}`);
      // Adopt what the database says about what the model could not predict.
      m.revision = row.revision;
      m.reasons = row.revisionReasons as ExposureChangeReason[];
      m.firstComputedAt = row.firstComputedAt;
      m.awareAt = row.awareAt;
      m.firstDataRevisionAt = row.firstDataRevisionAt;
      if (m.toldFloor === undefined || m.dataToldFloor === undefined) {
        // Learnt from the database (writes the model could not follow): what the engine stored is the floor.
        m.toldFloor = row.awareAt < row.firstComputedAt ? row.awareAt : null;
        m.dataToldFloor =
          row.dataAwareAt && (!row.firstDataRevisionAt || row.dataAwareAt < row.firstDataRevisionAt)
            ? row.dataAwareAt
            : null;
      }
    }
    for (const [k, m] of this.model) {
      if (!seen.has(k))
        problems.push(
          `exposure(incident ${m.incidentId.slice(0, 8)}, client ${m.clientId.slice(0, 8)}): expected ${m.resolved ? '(resolved)' : ''} ${JSON.stringify(m.exp)}, missing`,
        );
    }
    if (options.lenient) {
      // Resolved rows the model never saw (concurrent writes) become part of the model.
      for (const row of rows) {
        const k = key(row.incidentId, row.clientId);
        if (!this.model.has(k)) {
          this.model.set(k, {
            incidentId: row.incidentId,
            clientId: row.clientId,
            revision: row.revision,
            reasons: row.revisionReasons as ExposureChangeReason[],
            resolved: true,
            firstComputedAt: row.firstComputedAt,
            awareAt: row.awareAt,
            toldFloor: row.awareAt < row.firstComputedAt ? row.awareAt : null,
            dataToldFloor:
              row.dataAwareAt && (!row.firstDataRevisionAt || row.dataAwareAt < row.firstDataRevisionAt)
                ? row.dataAwareAt
                : null,
            firstHadData: row.firstRevisionHadData,
            firstDataRevisionAt: row.firstDataRevisionAt,
            exp: {
              incidentId: row.incidentId,
              clientId: row.clientId,
              contractIds: row.contractIds,
              path: row.path,
              categories: row.categories as Category[],
              people: row.people,
              peopleLow: row.peopleLow,
              peopleHigh: row.peopleHigh,
              special: row.special,
              direct: row.path.length === 1,
              score: row.score,
              level: row.level as RefExposure['level'],
              factors: row.factors.map((f) => ({
                name: f.name as RefExposure['factors'][number]['name'],
                contribution: f.contribution,
              })),
            },
          });
        }
      }
    }
    return problems;
  }

  /** A compact description of the register and incidents, for failure messages. */
  describe(): string {
    const short = (id: string) => {
      const s = this.register.suppliers.indexOf(id);
      if (s >= 0) return `S${s}`;
      const c = this.register.clients.indexOf(id);
      if (c >= 0) return `K${c}`;
      return id.slice(0, 8);
    };
    const lines = [
      `suppliers: ${this.register.suppliers.map((id, i) => `S${i}=${id.slice(0, 8)}`).join(' ')}`,
      `clients: ${this.register.clients.map((id, i) => `K${i}=${id.slice(0, 8)}`).join(' ')}`,
      `links: ${this.register.links.map((l) => `${short(l.supplierId)}->${short(l.subprocessorId)}`).join(' ')}`,
      ...this.register.contracts.map(
        (c) =>
          `contract ${c.id.slice(0, 8)} ${short(c.clientId)} @${short(c.supplierId)} ${c.startsOn}..${c.endsOn ?? 'open'} ${c.criticality}` +
          this.register.agreements
            .filter((a) => a.contractId === c.id)
            .map(
              (a) =>
                `\n    agreement ${a.id.slice(0, 8)} [${a.categories.join(',')}] n=${a.dataSubjectCount} until=${a.dataRetainedUntil ?? '-'} sub=[${a.subprocessorIds.map(short).join(',')}]`,
            )
            .join(''),
      ),
      ...[...this.incidents.values()].map(
        (i) =>
          `incident ${i.id.slice(0, 8)} @${short(i.supplierId)} ${i.status} started=${i.startedAt?.toISOString() ?? 'null'} detected=${i.detectedAt.toISOString()} contained=${i.containedAt?.toISOString() ?? 'null'} categories=${i.dataCategoriesAffected ? `[${i.dataCategoriesAffected.join(',')}]` : 'null'} ${i.exfiltration} share=${i.shareOfDataAffectedBp ?? 'all'}`,
      ),
      `today: ${this.today}`,
    ];
    return lines.join('\n');
  }
}

function summary(row: DbExposure) {
  return {
    contractIds: row.contractIds,
    path: row.path,
    categories: row.categories,
    people: row.people,
    score: row.score,
    level: row.level,
    revision: row.revision,
    resolvedAt: row.resolvedAt,
  };
}
