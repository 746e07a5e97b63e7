/**
 * Every regulator's clock as data (docs/regulatory-clocks.md cites each milestone's source, and says what
 * could not be verified). A regime has milestones; each milestone says what starts it (its trigger), when it
 * is due after that (or "without undue delay": no fixed time), and the dates each version of the rule is in
 * force: an obligation follows the version in force at its trigger.
 *
 * computeObligations() turns one exposure's facts (awareness moments, recorded triggers, decisions) into its
 * obligations at a moment. It is pure: test/exposure/reference.ts (refObligations) computes the same from
 * the rules' text, and test/exposure/engine.property.test.ts compares the stored next due time with it.
 */
import { ClientSector } from '../../common/enums';

export enum RegulatoryRegime {
  UK_GDPR = 'UK_GDPR',
  EU_GDPR = 'EU_GDPR',
  UK_NIS = 'UK_NIS',
  NIS2 = 'NIS2',
  DORA = 'DORA',
  PECR = 'PECR',
}

export enum ObligationMilestone {
  EARLY_WARNING = 'EARLY_WARNING',
  INITIAL_NOTIFICATION = 'INITIAL_NOTIFICATION',
  NOTIFICATION = 'NOTIFICATION',
  INTERMEDIATE_REPORT = 'INTERMEDIATE_REPORT',
  FINAL_REPORT = 'FINAL_REPORT',
  DATA_SUBJECTS = 'DATA_SUBJECTS',
}

export enum ObligationStatus {
  NOT_STARTED = 'NOT_STARTED',
  OPEN = 'OPEN',
  DUE_SOON = 'DUE_SOON',
  OVERDUE = 'OVERDUE',
  MET = 'MET',
  NOT_REQUIRED = 'NOT_REQUIRED',
}

/** What starts a milestone's clock. */
export type TriggerKind =
  /** The client became aware of the incident (rule 5). */
  | 'INCIDENT_AWARENESS'
  /** The client became aware that personal data of its own is at risk (rule 5). */
  | 'PERSONAL_DATA_AWARENESS'
  /** Recorded by recordObligationTrigger: the client judged the incident significant (NIS, NIS2). */
  | 'SIGNIFICANT_INCIDENT'
  /** Recorded by recordObligationTrigger: the client classified the incident as major (DORA). */
  | 'CLASSIFIED_MAJOR'
  /** High risk to people: recorded, or the exposure is HIGH or CRITICAL with data at risk (UK GDPR Art. 34). */
  | 'HIGH_RISK'
  /** An earlier milestone of the same regime was met: its decision's reportedAt. */
  | 'MILESTONE_MET';

/** A due offset: a fixed number of hours, whole calendar months (UTC), or none ("without undue delay"). */
export type Due = { hours: number } | { months: number } | null;

export interface MilestoneRule {
  /** Start of this version's force (inclusive), ISO instant; null: from the start of the regime. */
  from: string | null;
  /** End of this version's force (exclusive), ISO instant; null: still in force. */
  until: string | null;
  due: Due;
  /** The legal reference, shown as Obligation.source. */
  source: string;
}

export interface MilestoneDefinition {
  milestone: ObligationMilestone;
  description: string;
  trigger: TriggerKind;
  /** For MILESTONE_MET: the milestone whose reportedAt starts this one. */
  after?: ObligationMilestone;
  /**
   * DORA's initial notification: also due at most this many hours after awareness of the incident, and
   * open from awareness even before classification (the backstop), unless classified later than that.
   */
  backstopHoursAfterAwareness?: number;
  rules: MilestoneRule[];
}

export interface RegimeDefinition {
  regime: RegulatoryRegime;
  name: string;
  milestones: MilestoneDefinition[];
}

const UK_GDPR_FROM = '2018-05-24T23:00:00Z'; // 25 May 2018, 00:00 in London (BST)
const EU_GDPR_FROM = '2018-05-24T22:00:00Z'; // 25 May 2018, 00:00 in Brussels (CEST)
const NIS_FROM = '2018-05-09T23:00:00Z'; // 10 May 2018, 00:00 in London (BST)
const NIS2_FROM = '2024-10-17T22:00:00Z'; // 18 October 2024, 00:00 in Brussels (CEST); national laws vary
const DORA_FROM = '2025-01-16T23:00:00Z'; // 17 January 2025, 00:00 in Brussels (CET)
const PECR_24H_FROM = '2013-08-24T23:00:00Z'; // 25 August 2013 (Commission Regulation (EU) No 611/2013)
const PECR_72H_FROM = '2025-08-19T23:00:00Z'; // 20 August 2025, 00:00 in London (BST): DUAA 2025

export const REGIMES: readonly RegimeDefinition[] = [
  {
    regime: RegulatoryRegime.UK_GDPR,
    name: 'UK GDPR',
    milestones: [
      {
        milestone: ObligationMilestone.NOTIFICATION,
        description:
          'Notify the ICO of the personal data breach, unless it is unlikely to result in a risk to people (the decision and its reasons are kept either way).',
        trigger: 'PERSONAL_DATA_AWARENESS',
        rules: [{ from: UK_GDPR_FROM, until: null, due: { hours: 72 }, source: 'UK GDPR Art. 33(1)' }],
      },
      {
        milestone: ObligationMilestone.DATA_SUBJECTS,
        description:
          'Tell the people whose data it is, without undue delay, when the breach is likely to result in a high risk to them.',
        trigger: 'HIGH_RISK',
        rules: [{ from: UK_GDPR_FROM, until: null, due: null, source: 'UK GDPR Art. 34(1)' }],
      },
    ],
  },
  {
    regime: RegulatoryRegime.EU_GDPR,
    name: 'EU GDPR',
    milestones: [
      {
        milestone: ObligationMilestone.NOTIFICATION,
        description:
          'Notify the lead supervisory authority (each authority concerned when the controller has no EU establishment), unless the breach is unlikely to result in a risk to people.',
        trigger: 'PERSONAL_DATA_AWARENESS',
        rules: [
          {
            from: EU_GDPR_FROM,
            until: null,
            due: { hours: 72 },
            source: 'Regulation (EU) 2016/679 (GDPR) Art. 33(1), Art. 56',
          },
        ],
      },
    ],
  },
  {
    regime: RegulatoryRegime.UK_NIS,
    name: 'UK NIS Regulations 2018',
    milestones: [
      {
        milestone: ObligationMilestone.NOTIFICATION,
        description:
          'Notify the designated competent authority of an incident with a significant impact on the continuity of the essential service.',
        trigger: 'SIGNIFICANT_INCIDENT',
        rules: [
          {
            from: NIS_FROM,
            until: null,
            due: { hours: 72 },
            source: 'The Network and Information Systems Regulations 2018 (SI 2018/506) reg. 11(1), 11(3)(b)',
          },
        ],
      },
    ],
  },
  {
    regime: RegulatoryRegime.NIS2,
    name: 'NIS2 Directive',
    milestones: [
      {
        milestone: ObligationMilestone.EARLY_WARNING,
        description: 'Early warning to the CSIRT or competent authority of a significant incident.',
        trigger: 'SIGNIFICANT_INCIDENT',
        rules: [
          {
            from: NIS2_FROM,
            until: null,
            due: { hours: 24 },
            source: 'Directive (EU) 2022/2555 Art. 23(4)(a)',
          },
        ],
      },
      {
        milestone: ObligationMilestone.NOTIFICATION,
        description:
          'Incident notification updating the early warning, with an initial assessment (an intermediate report is due only on request).',
        trigger: 'SIGNIFICANT_INCIDENT',
        rules: [
          {
            from: NIS2_FROM,
            until: null,
            due: { hours: 72 },
            source: 'Directive (EU) 2022/2555 Art. 23(4)(b)',
          },
        ],
      },
      {
        milestone: ObligationMilestone.FINAL_REPORT,
        description: 'Final report, one month after the incident notification was submitted.',
        trigger: 'MILESTONE_MET',
        after: ObligationMilestone.NOTIFICATION,
        rules: [
          {
            from: NIS2_FROM,
            until: null,
            due: { months: 1 },
            source: 'Directive (EU) 2022/2555 Art. 23(4)(d)',
          },
        ],
      },
    ],
  },
  {
    regime: RegulatoryRegime.DORA,
    name: 'DORA',
    milestones: [
      {
        milestone: ObligationMilestone.INITIAL_NOTIFICATION,
        description:
          'Initial notification of a major ICT-related incident: 4 hours after classification as major, at most 24 hours after awareness (4 hours after a classification made later than that).',
        trigger: 'CLASSIFIED_MAJOR',
        backstopHoursAfterAwareness: 24,
        rules: [
          {
            from: DORA_FROM,
            until: null,
            due: { hours: 4 },
            source:
              'Regulation (EU) 2022/2554 (DORA) Art. 19(4)(a); Delegated Regulation (EU) 2025/301 Art. 5(1)(a), 5(2)',
          },
        ],
      },
      {
        milestone: ObligationMilestone.INTERMEDIATE_REPORT,
        description: 'Intermediate report, 72 hours after the initial notification was submitted.',
        trigger: 'MILESTONE_MET',
        after: ObligationMilestone.INITIAL_NOTIFICATION,
        rules: [
          {
            from: DORA_FROM,
            until: null,
            due: { hours: 72 },
            source:
              'Regulation (EU) 2022/2554 (DORA) Art. 19(4)(b); Delegated Regulation (EU) 2025/301 Art. 5(1)(b)',
          },
        ],
      },
      {
        milestone: ObligationMilestone.FINAL_REPORT,
        description: 'Final report, one month after the latest intermediate report was submitted.',
        trigger: 'MILESTONE_MET',
        after: ObligationMilestone.INTERMEDIATE_REPORT,
        rules: [
          {
            from: DORA_FROM,
            until: null,
            due: { months: 1 },
            source:
              'Regulation (EU) 2022/2554 (DORA) Art. 19(4)(c); Delegated Regulation (EU) 2025/301 Art. 5(1)(c)',
          },
        ],
      },
    ],
  },
  {
    regime: RegulatoryRegime.PECR,
    name: 'PECR',
    milestones: [
      {
        milestone: ObligationMilestone.NOTIFICATION,
        description:
          'A provider of a public electronic communications service notifies the ICO of the personal data breach.',
        trigger: 'PERSONAL_DATA_AWARENESS',
        rules: [
          {
            from: PECR_24H_FROM,
            until: PECR_72H_FROM,
            due: { hours: 24 },
            source: 'PECR (SI 2003/2426) reg. 5A(2); Commission Regulation (EU) No 611/2013 Art. 2(2)',
          },
          {
            from: PECR_72H_FROM,
            until: null,
            due: { hours: 72 },
            source: 'PECR (SI 2003/2426) reg. 5A(2) as amended by the Data (Use and Access) Act 2025',
          },
        ],
      },
    ],
  },
];

/** EU and EEA states (ISO 3166-1 alpha-2). */
export const EU_EEA = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU',
  'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO',
]); // prettier-ignore

/**
 * The regimes a client is under unless set explicitly (docs/regulatory-clocks.md, "Which regimes apply"):
 * every UK client UK GDPR; a client established in the EU/EEA EU GDPR (GDPR Art. 3(1), establishment, not
 * where a processor stores data); an EU financial entity DORA, and not NIS2 by default (DORA is the specific
 * law, NIS2 Art. 4). NIS, NIS2 and PECR depend on what the client does, which the sector alone does not say:
 * they are set explicitly.
 */
export function defaultRegimes(sector: ClientSector, country: string): RegulatoryRegime[] {
  const regimes: RegulatoryRegime[] = [];
  if (country === 'GB') regimes.push(RegulatoryRegime.UK_GDPR);
  if (EU_EEA.has(country)) {
    regimes.push(RegulatoryRegime.EU_GDPR);
    if (sector === ClientSector.FINANCIAL_SERVICES) regimes.push(RegulatoryRegime.DORA);
  }
  return regimes;
}

/** What computeObligations needs to know about one exposure. */
export interface ObligationFacts {
  regimes: readonly RegulatoryRegime[];
  /** Awareness of the incident (Exposure.awareAt). */
  awareAt: Date;
  /** Awareness of a personal data breach; null: no personal data at risk yet. */
  dataAwareAt: Date | null;
  /** UK GDPR Art. 34 triggers itself: the exposure is HIGH or CRITICAL with data at risk (since this moment). */
  highRiskSince: Date | null;
  /** Recorded triggers (recordObligationTrigger), the earliest per regime. */
  triggers: ReadonlyMap<RegulatoryRegime, Date>;
  /** The decision in force per obligation, keyed `${regime}/${milestone}`. */
  decisions: ReadonlyMap<string, ObligationDecisionFacts>;
}

export interface ObligationDecisionFacts {
  status: 'ASSESSING' | 'REPORTED' | 'NOT_REQUIRED';
  reportedAt: Date | null;
  /** The exposure widened after this NOT_REQUIRED decision: it needs review, the obligation is open again. */
  reviewNeeded: boolean;
}

export interface ObligationValue {
  regime: RegulatoryRegime;
  milestone: ObligationMilestone;
  description: string;
  startsAt: Date | null;
  dueAt: Date | null;
  status: ObligationStatus;
  source: string;
  reviewNeeded: boolean;
}

export const decisionKey = (regime: string, milestone: string) => `${regime}/${milestone}`;

const HOUR_MS = 3600 * 1000;

/** Adds whole calendar months in UTC; a day that does not exist (31 February) becomes the month's last day. */
export function addMonths(at: Date, months: number): Date {
  const result = new Date(at.getTime());
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const last = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, last));
  return result;
}

export function addDue(at: Date, due: Due): Date | null {
  if (due === null) return null;
  return 'hours' in due ? new Date(at.getTime() + due.hours * HOUR_MS) : addMonths(at, due.months);
}

/** The version of a milestone's rule in force at `at`; null: none (the regime did not exist yet). */
export function ruleAt(definition: MilestoneDefinition, at: Date): MilestoneRule | null {
  const t = at.getTime();
  return (
    definition.rules.find(
      (rule) =>
        (rule.from === null || Date.parse(rule.from) <= t) &&
        (rule.until === null || t < Date.parse(rule.until)),
    ) ?? null
  );
}

/**
 * How long before its deadline an obligation is DUE_SOON: 24 hours, or a fifth of the window for clocks of
 * a day or less (a 4-hour clock is due soon in its last 48 minutes).
 */
export function dueSoonLeadMs(startsAt: Date, dueAt: Date): number {
  const window = dueAt.getTime() - startsAt.getTime();
  return window > 24 * HOUR_MS ? 24 * HOUR_MS : Math.floor(window / 5);
}

function statusAt(
  startsAt: Date | null,
  dueAt: Date | null,
  decision: ObligationDecisionFacts | undefined,
  now: Date,
): ObligationStatus {
  if (decision?.status === 'REPORTED') return ObligationStatus.MET;
  if (decision?.status === 'NOT_REQUIRED' && !decision.reviewNeeded) return ObligationStatus.NOT_REQUIRED;
  if (startsAt === null) return ObligationStatus.NOT_STARTED;
  if (dueAt === null) return ObligationStatus.OPEN;
  if (now.getTime() > dueAt.getTime()) return ObligationStatus.OVERDUE;
  if (now.getTime() >= dueAt.getTime() - dueSoonLeadMs(startsAt, dueAt)) return ObligationStatus.DUE_SOON;
  return ObligationStatus.OPEN;
}

/** One exposure's obligations at `now`, in the order of REGIMES (regimes the client is not under left out). */
export function computeObligations(facts: ObligationFacts, now: Date): ObligationValue[] {
  const result: ObligationValue[] = [];
  for (const regime of REGIMES) {
    if (!facts.regimes.includes(regime.regime)) continue;
    for (const definition of regime.milestones) {
      const decision = facts.decisions.get(decisionKey(regime.regime, definition.milestone));
      let startsAt: Date | null = null;
      let dueAt: Date | null = null;
      let rule: MilestoneRule | null = null;
      const recorded = facts.triggers.get(regime.regime) ?? null;
      switch (definition.trigger) {
        case 'INCIDENT_AWARENESS':
          startsAt = facts.awareAt;
          break;
        case 'PERSONAL_DATA_AWARENESS':
          startsAt = facts.dataAwareAt;
          break;
        case 'SIGNIFICANT_INCIDENT':
        case 'CLASSIFIED_MAJOR':
          startsAt = recorded;
          break;
        case 'HIGH_RISK':
          startsAt =
            recorded && facts.highRiskSince
              ? new Date(Math.min(recorded.getTime(), facts.highRiskSince.getTime()))
              : (recorded ?? facts.highRiskSince);
          break;
        case 'MILESTONE_MET': {
          const before = facts.decisions.get(decisionKey(regime.regime, definition.after!));
          startsAt = before?.status === 'REPORTED' ? before.reportedAt : null;
          break;
        }
      }
      if (definition.backstopHoursAfterAwareness !== undefined) {
        // DORA: the initial notification is open from awareness; due 4 h after classification but at most
        // 24 h after awareness, or 4 h after a classification made later than those 24 h.
        const backstop = new Date(facts.awareAt.getTime() + definition.backstopHoursAfterAwareness * HOUR_MS);
        rule = ruleAt(definition, facts.awareAt);
        if (rule) {
          if (recorded === null) {
            dueAt = backstop;
          } else {
            const afterClassification = addDue(recorded, rule.due)!;
            dueAt =
              recorded.getTime() <= backstop.getTime()
                ? new Date(Math.min(afterClassification.getTime(), backstop.getTime()))
                : afterClassification;
          }
          startsAt = facts.awareAt;
        } else {
          startsAt = null;
        }
      } else if (startsAt !== null) {
        rule = ruleAt(definition, startsAt);
        if (rule) dueAt = addDue(startsAt, rule.due);
        else startsAt = null; // the rule was not in force yet: no obligation
      }
      const shown = rule ?? definition.rules[definition.rules.length - 1];
      result.push({
        regime: regime.regime,
        milestone: definition.milestone,
        description: definition.description,
        startsAt,
        dueAt,
        status: statusAt(startsAt, dueAt, decision, now),
        source: shown.source,
        reviewNeeded: decision?.reviewNeeded ?? false,
      });
    }
  }
  return result;
}

/** The earliest due date among obligations still open (OPEN, DUE_SOON or OVERDUE with a dueAt). */
export function nextDueAt(obligations: readonly ObligationValue[]): Date | null {
  let next: Date | null = null;
  for (const o of obligations) {
    if (o.dueAt === null) continue;
    if (
      o.status !== ObligationStatus.OPEN &&
      o.status !== ObligationStatus.DUE_SOON &&
      o.status !== ObligationStatus.OVERDUE
    )
      continue;
    if (next === null || o.dueAt < next) next = o.dueAt;
  }
  return next;
}
