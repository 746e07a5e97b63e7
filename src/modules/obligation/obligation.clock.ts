/**
 * One exposure's obligations from its stored facts, and the two values kept on the exposure row so lists can
 * filter and order on them in SQL (docs/regulatory-clocks.md, "Filtering and ordering"):
 *
 * - next_due_at: the earliest dueAt among obligations still open. Whether an obligation is open (triggered,
 *   not MET, not NOT_REQUIRED) does not depend on the time it is read at, only DUE_SOON versus OVERDUE does,
 *   so the stored value is exact until an input changes, and every input change refreshes it here: the
 *   engine after each statement (revisions, notices, review flags), recordObligationTrigger,
 *   recordNotificationDecision and a client's sector, country or regimes changing.
 * - next_reminder_at: the earliest reminder (DUE_SOON, OVERDUE) of an open obligation not yet written, for
 *   the reminders job (obligation.reminders.ts).
 *
 * Both come from computeObligations (regimes.ts), the code Exposure.obligations answers with, over the same
 * facts; test/obligation/reminders.test.ts checks the stored value against the answered one.
 */
import { EntityManager } from 'typeorm';
import { ClientSector } from '../../common/enums';
import { lockExposureWrites } from '../exposure/exposure.lock';
import {
  ObligationDecisionFacts,
  ObligationStatus,
  ObligationValue,
  RegulatoryRegime,
  computeObligations,
  decisionKey,
  defaultRegimes,
  dueSoonLeadMs,
  nextDueAt,
} from './regimes';

/** The regimes a client is under: as set, or the defaults from its sector and country. */
export function regimesOf(client: {
  regimes: readonly string[] | null;
  sector: ClientSector;
  country: string;
}): RegulatoryRegime[] {
  return client.regimes?.length
    ? (client.regimes as RegulatoryRegime[])
    : defaultRegimes(client.sector, client.country);
}

type Factors = readonly { name: string; contribution: number }[];

/** What an exposure or one of its revisions says about its breadth. */
export interface Breadth {
  dataCategoriesAtRisk: readonly string[];
  specialCategoryData: boolean;
  dataSubjectsAtRisk: string | number;
  factors: Factors;
}

/** The exposure widened from `then` to `now`: a category added, special category data, more people, exfiltration raised. */
export function widened(then: Breadth, now: Breadth): boolean {
  const exfiltration = (f: Factors) => f.find((x) => x.name === 'exfiltration')?.contribution ?? 0;
  return (
    now.dataCategoriesAtRisk.some((c) => !then.dataCategoriesAtRisk.includes(c)) ||
    (now.specialCategoryData && !then.specialCategoryData) ||
    Number(now.dataSubjectsAtRisk) > Number(then.dataSubjectsAtRisk) ||
    exfiltration(now.factors) > exfiltration(then.factors)
  );
}

/** Everything an exposure's obligations are computed from (entities fit it, and so do the rows read here). */
export interface ClockInputs {
  exposure: Breadth & {
    awareAt: Date;
    dataAwareAt: Date | null;
    level: string;
    reviewNeededAt: Date | null;
  };
  client: { regimes: readonly string[] | null; sector: ClientSector; country: string };
  triggers: readonly { regime: string; triggeredAt: Date }[];
  /** Oldest first. */
  decisions: readonly {
    regime: string;
    milestone: string;
    status: ObligationDecisionFacts['status'];
    reportedAt: Date | null;
    decidedAt: Date;
  }[];
  /** By revision, oldest first. */
  history: readonly (Breadth & { recordedAt: Date; level: string; resolvedAt: Date | null })[];
}

/** The exposure's obligations at `now` (what Exposure.obligations answers). */
export function obligationsOf(inputs: ClockInputs, now: Date): ObligationValue[] {
  const { exposure, client, triggers, decisions, history } = inputs;
  const earliest = new Map<RegulatoryRegime, Date>();
  for (const t of triggers) {
    const seen = earliest.get(t.regime as RegulatoryRegime);
    if (!seen || t.triggeredAt < seen) earliest.set(t.regime as RegulatoryRegime, t.triggeredAt);
  }
  // The decision in force per obligation is the latest; a NOT_REQUIRED one needs review once the exposure
  // widened since it was taken (against the revision in force then).
  const inForce = new Map<string, ObligationDecisionFacts>();
  for (const d of decisions) {
    const then = [...history].reverse().find((r) => r.recordedAt <= d.decidedAt) ?? history[0];
    const review =
      d.status === 'NOT_REQUIRED' &&
      ((then !== undefined && widened(then, exposure)) ||
        (d.regime === 'UK_GDPR' &&
          d.milestone === 'NOTIFICATION' &&
          exposure.reviewNeededAt !== null &&
          exposure.reviewNeededAt > d.decidedAt));
    inForce.set(decisionKey(d.regime, d.milestone), {
      status: d.status,
      reportedAt: d.reportedAt,
      reviewNeeded: review,
    });
  }
  const highRisk = history.find(
    (r) =>
      (r.level === 'HIGH' || r.level === 'CRITICAL') && r.dataCategoriesAtRisk.length > 0 && !r.resolvedAt,
  );
  const highNow =
    (exposure.level === 'HIGH' || exposure.level === 'CRITICAL') && exposure.dataCategoriesAtRisk.length > 0;
  return computeObligations(
    {
      regimes: regimesOf(client),
      awareAt: exposure.awareAt,
      dataAwareAt: exposure.dataAwareAt,
      highRiskSince: highNow && highRisk ? highRisk.recordedAt : null,
      triggers: earliest,
      decisions: inForce,
    },
    now,
  );
}

export type ReminderKind = 'DUE_SOON' | 'OVERDUE';

export interface Reminder {
  kind: ReminderKind;
  /** When it falls due: DUE_SOON at or after this moment, OVERDUE strictly after it (as the statuses). */
  remindAt: Date;
}

const HOUR_MS = 3600 * 1000;

const isOpen = (o: ObligationValue) =>
  o.status === ObligationStatus.OPEN ||
  o.status === ObligationStatus.DUE_SOON ||
  o.status === ObligationStatus.OVERDUE;

/**
 * An obligation's reminders, earliest first: a clock longer than a day gets DUE_SOON 24 h and 4 h before its
 * dueAt; a clock of a day or less one DUE_SOON when its last fifth begins (dueSoonLeadMs, the moment its
 * status turns DUE_SOON); every clock an OVERDUE once its dueAt has passed. None without a fixed dueAt.
 */
export function remindersOf(o: Pick<ObligationValue, 'startsAt' | 'dueAt'>): Reminder[] {
  if (!o.startsAt || !o.dueAt) return [];
  const due = o.dueAt.getTime();
  const leads = due - o.startsAt.getTime() > 24 * HOUR_MS ? [24 * HOUR_MS, 4 * HOUR_MS] : [];
  if (leads.length === 0) leads.push(dueSoonLeadMs(o.startsAt, o.dueAt));
  return [
    ...leads.map((lead) => ({ kind: 'DUE_SOON' as const, remindAt: new Date(due - lead) })),
    { kind: 'OVERDUE' as const, remindAt: o.dueAt },
  ];
}

export const reminderKey = (regime: string, milestone: string, kind: string, remindAt: Date) =>
  `${regime}/${milestone}/${kind}/${remindAt.toISOString()}`;

/** Whether a reminder has fallen due at `now`. */
export const reminderDue = (r: Reminder, now: Date) =>
  r.kind === 'OVERDUE' ? now.getTime() > r.remindAt.getTime() : now.getTime() >= r.remindAt.getTime();

/** The earliest reminder of an open obligation that is not recorded yet; null: none. */
export function nextReminderAt(
  obligations: readonly ObligationValue[],
  recorded: ReadonlySet<string>,
): Date | null {
  let next: Date | null = null;
  for (const o of obligations) {
    if (!isOpen(o)) continue;
    for (const r of remindersOf(o)) {
      if (recorded.has(reminderKey(o.regime, o.milestone, r.kind, r.remindAt))) continue;
      if (next === null || r.remindAt < next) next = r.remindAt;
    }
  }
  return next;
}

/** One reminder to record: announced (an alert) or passed over for a later one of the same obligation. */
export interface DueReminder extends Reminder {
  regime: RegulatoryRegime;
  milestone: string;
  dueAt: Date;
  announce: boolean;
}

/**
 * The reminders of open obligations due at `now` and not recorded yet. Of one obligation's, only the latest
 * is announced: after downtime, or for an obligation that opened already late, an OVERDUE alert says it all,
 * and the DUE_SOON ones it supersedes are recorded as passed over (so each is still handled once).
 */
export function dueReminders(
  obligations: readonly ObligationValue[],
  recorded: ReadonlySet<string>,
  now: Date,
): DueReminder[] {
  const result: DueReminder[] = [];
  for (const o of obligations) {
    if (!isOpen(o)) continue;
    const due = remindersOf(o).filter(
      (r) => reminderDue(r, now) && !recorded.has(reminderKey(o.regime, o.milestone, r.kind, r.remindAt)),
    );
    due.forEach((r, i) =>
      result.push({
        ...r,
        regime: o.regime,
        milestone: o.milestone,
        dueAt: o.dueAt!,
        announce: i === due.length - 1,
      }),
    );
  }
  return result;
}

/** One exposure's stored identity and clock inputs, as read by readClockInputs. */
export interface StoredClock {
  id: string;
  clientId: string;
  nextDueAt: Date | null;
  nextReminderAt: Date | null;
  inputs: ClockInputs;
  /** reminderKey of every reminder recorded for the exposure. */
  recorded: Set<string>;
}

const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string));

/** Of a row's factors, only the one the rules read (widened: exfiltration raised), to keep the read small. */
const EXFILTRATION_ONLY = (alias: string) =>
  `(SELECT coalesce(jsonb_agg(f), '[]') FROM jsonb_array_elements(${alias}.factors) f WHERE f ->> 'name' = 'exfiltration')`;

/**
 * One statement: the exposures with their client, triggers, decisions, revisions (only the columns the
 * rules read) and recorded reminders, each set as a JSON array.
 */
const READ_CLOCKS_SQL = `
SELECT e.id, e.client_id, e.next_due_at, e.next_reminder_at, e.aware_at, e.data_aware_at, e.level,
       e.review_needed_at, e.data_categories_at_risk, e.special_category_data, e.data_subjects_at_risk::text AS people,
       ${EXFILTRATION_ONLY('e')} AS factors, c.regimes, c.sector, c.country,
       (SELECT coalesce(json_agg(json_build_object('regime', t.regime, 'at', t.triggered_at)), '[]')
          FROM obligation_trigger t WHERE t.exposure_id = e.id) AS triggers,
       (SELECT coalesce(json_agg(json_build_object('regime', d.regime, 'milestone', d.milestone, 'status', d.status,
                                                   'reportedAt', d.reported_at, 'decidedAt', d.decided_at)
                                 ORDER BY d.decided_at, d.id), '[]')
          FROM notification_decision d WHERE d.exposure_id = e.id) AS decisions,
       (SELECT coalesce(json_agg(json_build_object('recordedAt', r.recorded_at, 'level', r.level,
                                                   'categories', r.data_categories_at_risk, 'special', r.special_category_data,
                                                   'people', r.data_subjects_at_risk::text, 'factors', ${EXFILTRATION_ONLY('r')},
                                                   'resolvedAt', r.resolved_at) ORDER BY r.revision), '[]')
          FROM exposure_revision r WHERE r.exposure_id = e.id) AS history,
       (SELECT coalesce(json_agg(json_build_object('regime', m.regime, 'milestone', m.milestone, 'kind', m.kind, 'at', m.remind_at)), '[]')
          FROM obligation_reminder m WHERE m.exposure_id = e.id) AS reminders
FROM exposure e JOIN client c ON c.id = e.client_id
WHERE e.id = ANY($1::uuid[])`;

/** The exposure's and its client's columns the clock rules read, stored or about to be written. */
interface ExposureClockColumns {
  id: string;
  client_id: string;
  aware_at: Date;
  data_aware_at: Date | null;
  level: string;
  review_needed_at: Date | null;
  data_categories_at_risk: string[];
  special_category_data: boolean;
  people: string;
  regimes: string[] | null;
  sector: ClientSector;
  country: string;
}

/** A row of READ_CLOCKS_SQL: the exposure's columns, its client's, and JSON arrays (timestamps as text). */
interface ClockRow extends ExposureClockColumns {
  next_due_at: Date | null;
  next_reminder_at: Date | null;
  factors: { name: string; contribution: number }[];
  triggers: { regime: string; at: string }[];
  decisions: {
    regime: string;
    milestone: string;
    status: ObligationDecisionFacts['status'];
    reportedAt: string | null;
    decidedAt: string;
  }[];
  history: {
    recordedAt: string;
    level: string;
    categories: string[];
    special: boolean;
    people: string;
    factors: { name: string; contribution: number }[];
    resolvedAt: string | null;
  }[];
  reminders: { regime: string; milestone: string; kind: string; at: string }[];
}

/** The clock inputs of these exposures, read inside the caller's transaction. */
export async function readClockInputs(manager: EntityManager, exposureIds: string[]): Promise<StoredClock[]> {
  if (exposureIds.length === 0) return [];
  const rows: ClockRow[] = await manager.query(READ_CLOCKS_SQL, [exposureIds]);
  return rows.map(storedClockOf);
}

/** The exposure's facts as the clock rules take them. */
function exposureFactsOf(row: ExposureClockColumns, factors: { name: string; contribution: number }[]) {
  return {
    awareAt: row.aware_at,
    dataAwareAt: row.data_aware_at,
    level: row.level,
    reviewNeededAt: row.review_needed_at,
    dataCategoriesAtRisk: row.data_categories_at_risk,
    specialCategoryData: row.special_category_data,
    dataSubjectsAtRisk: row.people,
    factors,
  };
}

/** The client's facts as the clock rules take them. */
function clientFactsOf(row: ExposureClockColumns) {
  return { regimes: row.regimes, sector: row.sector, country: row.country };
}

/** One row of READ_CLOCKS_SQL as clock inputs. */
function storedClockOf(row: ClockRow): StoredClock {
  return {
    id: row.id,
    clientId: row.client_id,
    nextDueAt: row.next_due_at,
    nextReminderAt: row.next_reminder_at,
    inputs: {
      exposure: exposureFactsOf(row, row.factors),
      client: clientFactsOf(row),
      triggers: row.triggers.map((t) => ({ regime: t.regime, triggeredAt: date(t.at)! })),
      decisions: row.decisions.map((d) => ({
        regime: d.regime,
        milestone: d.milestone,
        status: d.status,
        reportedAt: date(d.reportedAt),
        decidedAt: date(d.decidedAt)!,
      })),
      history: row.history.map((r) => ({
        recordedAt: date(r.recordedAt)!,
        level: r.level,
        dataCategoriesAtRisk: r.categories,
        specialCategoryData: r.special,
        dataSubjectsAtRisk: r.people,
        factors: r.factors,
        resolvedAt: date(r.resolvedAt),
      })),
    },
    recorded: new Set(row.reminders.map((m) => reminderKey(m.regime, m.milestone, m.kind, date(m.at)!))),
  };
}

/**
 * An exposure about to be written with its first revision (ExposureEngine.recordNewIncident computes its
 * clocks before writing it): its columns, its client's, and the revision's recorded_at (computed_at).
 */
export interface NewExposureClockRow extends ExposureClockColumns {
  /** The exfiltration factor's contribution (the one factor the rules read). */
  exfiltration: number | null;
  computed_at: Date;
}

/**
 * The clock inputs of an exposure not written yet: what readClockInputs would read once it and its first
 * revision are written. Nothing can reference a row not written yet, so it has no trigger, decision or
 * reminder; its history is that one revision, with the exposure's own facts, unresolved.
 */
export function newExposureClockOf(row: NewExposureClockRow): StoredClock {
  const factors = row.exfiltration === null ? [] : [{ name: 'exfiltration', contribution: row.exfiltration }];
  const exposure = exposureFactsOf(row, factors);
  return {
    id: row.id,
    clientId: row.client_id,
    nextDueAt: null,
    nextReminderAt: null,
    inputs: {
      exposure,
      client: clientFactsOf(row),
      triggers: [],
      decisions: [],
      history: [
        {
          recordedAt: row.computed_at,
          level: row.level,
          dataCategoriesAtRisk: exposure.dataCategoriesAtRisk,
          specialCategoryData: exposure.specialCategoryData,
          dataSubjectsAtRisk: exposure.dataSubjectsAtRisk,
          factors,
          resolvedAt: null,
        },
      ],
    },
    recorded: new Set(),
  };
}

/** An exposure's two stored clock values. */
export interface ClockValues {
  id: string;
  nextDueAt: Date | null;
  nextReminderAt: Date | null;
}

/** The clock values (next_due_at, next_reminder_at) of a stored clock's inputs at `now`. */
export function clockValuesOf(stored: StoredClock, now: Date): ClockValues {
  const obligations = obligationsOf(stored.inputs, now);
  return {
    id: stored.id,
    nextDueAt: nextDueAt(obligations),
    nextReminderAt: nextReminderAt(obligations, stored.recorded),
  };
}

/** Writes the clock values that differ from what is stored (one statement, none when nothing differs). */
export async function writeClocks(
  manager: EntityManager,
  values: readonly { id: string; nextDueAt: Date | null; nextReminderAt: Date | null }[],
): Promise<void> {
  if (values.length === 0) return;
  await manager.query(
    `UPDATE exposure e SET next_due_at = v.next_due_at, next_reminder_at = v.next_reminder_at
     FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS v(id, next_due_at, next_reminder_at)
     WHERE e.id = v.id`,
    [values.map((v) => v.id), values.map((v) => v.nextDueAt), values.map((v) => v.nextReminderAt)],
  );
}

const same = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

/**
 * Recomputes next_due_at and next_reminder_at of these exposures from what is stored now, in the caller's
 * transaction. Under the exposure lock, so two writers that each changed an input end with the value of
 * the later one, which sees both (the engine already holds it: `locked`).
 */
export async function refreshObligationClocks(
  manager: EntityManager,
  exposureIds: string[],
  now: Date,
  options: { locked?: boolean } = {},
): Promise<void> {
  if (exposureIds.length === 0) return;
  if (!options.locked) await lockExposureWrites(manager);
  const stored = await readClockInputs(manager, exposureIds);
  const changed = stored
    .map((s) => ({ ...clockValuesOf(s, now), before: s }))
    .filter(
      (v) => !same(v.nextDueAt, v.before.nextDueAt) || !same(v.nextReminderAt, v.before.nextReminderAt),
    );
  await writeClocks(manager, changed);
}
