import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DataCategory } from '../../common/enums';
import { Node, registerNodeType } from '../../common/node';
import { connectionTypes } from '../../common/connection';
import { DateTimeScalar } from '../../common/scalars';
import { Money } from '../contract/contract.type';
import { ExposureChangeReason, ExposureEntity, ExposureLevel, NotificationStatus } from './exposure.entity';

registerEnumType(ExposureLevel, {
  name: 'ExposureLevel',
  description: 'Band of the exposure score.',
  valuesConfig: {
    LOW: { description: 'Score below 25. Every exposure with no personal data at risk is LOW.' },
    MEDIUM: { description: 'Score 25 to 49.' },
    HIGH: { description: 'Score 50 to 74.' },
    CRITICAL: { description: 'Score 75 and above.' },
  },
});

registerEnumType(ExposureChangeReason, {
  name: 'ExposureChangeReason',
  description: 'Why the register wrote a revision of an exposure.',
  valuesConfig: {
    INCIDENT_RECORDED: { description: 'The incident was recorded.' },
    INCIDENT_UPDATED: { description: 'New facts about the incident were recorded while it was open.' },
    REOPENED: {
      description: 'A CLOSED incident was reopened, so it was recomputed against the register as it is now.',
    },
    REGISTER_CHANGED: {
      description:
        'The register changed (a supplier link, contract or agreement) while the incident was open.',
    },
    AWARENESS_CORRECTED: {
      description:
        "A correction with a stated reason moved the client's awareness (see the revision's note): the earlier value stays in history.",
    },
    CLIENT_NOTIFIED: { description: 'A notice to the client was recorded (recordClientNotice).' },
    CONTRACT_STARTED: {
      description:
        'A contract of the client started (the daily run) while the incident was open: nothing is exposed before it exists.',
    },
  },
});

registerEnumType(NotificationStatus, {
  name: 'NotificationStatus',
  description:
    "The client's decision on an obligation (by default reporting the breach to the ICO, UK GDPR Art. 33).",
  valuesConfig: {
    ASSESSING: {
      description:
        'No decision yet (or a NOT_REQUIRED decision that needs review after the exposure widened): the clock is running.',
    },
    REPORTED: { description: 'Reported to the regulator (reportedAt says when).' },
    NOT_REQUIRED: {
      description: 'Judged unlikely to risk people’s rights and freedoms; the justification is kept.',
    },
  },
});

@ObjectType({
  simpleResolvers: true,
  description:
    'One factor of an exposure score. The contributions of all factors sum to the score (before rounding).',
})
export class ExposureFactor {
  @Field({
    description:
      'specialCategoryData, dataSubjectVolume, exfiltration, serviceCriticality or supplyChainDepth.',
  })
  name: string;

  @Field({ description: 'Why, in words, e.g. "Data of 1,200,000 people at risk".' })
  detail: string;

  @Field(() => Float, { description: 'Points this factor adds (negative for supply-chain depth).' })
  contribution: number;
}

@ObjectType({
  simpleResolvers: true,
  description:
    "An estimate of how many people's data is at risk, as a range: the same people are often in several agreements, so the largest single agreement at risk is the lower bound and the sum over agreements the upper one; both are scaled by the incident's shareOfDataAffected when it is known (low rounded down, high up).",
})
export class PeopleRange {
  @Field(() => Float, {
    description:
      'Lower bound: the largest agreement at risk, times the share of data affected, rounded down.',
  })
  low: number;

  @Field(() => Float, {
    description:
      'Upper bound: the sum over agreements at risk, times the share of data affected, rounded up.',
  })
  high: number;
}

@ObjectType({
  simpleResolvers: true,
  description:
    "The client's decision on one obligation (by default UK GDPR Art. 33's notification to the ICO), with who and when.",
})
export class Notification {
  @Field(() => String, {
    description:
      'The regime decided on (RegulatoryRegime); UK_GDPR for decisions recorded before regimes were kept.',
  })
  regime: string;

  @Field(() => String, {
    description: 'The milestone decided on (ObligationMilestone); NOTIFICATION by default.',
  })
  milestone: string;

  @Field(() => String, {
    nullable: true,
    description: 'The facts of the breach (what Art. 33(5) asks to document).',
  })
  facts: string | null;

  @Field(() => String, { nullable: true, description: 'Its effects (Art. 33(5)).' })
  effects: string | null;

  @Field(() => String, { nullable: true, description: 'The remedial action taken (Art. 33(5)).' })
  remedialAction: string | null;

  @Field(() => NotificationStatus, { description: 'The decision, or ASSESSING while none is recorded.' })
  status: NotificationStatus;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the decision was recorded.' })
  decidedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'Who recorded it (the token subject).' })
  decidedBy: string | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When the breach was reported to the regulator (status REPORTED).',
  })
  reportedAt: Date | null;

  @Field(() => String, { nullable: true, description: "The regulator's case reference." })
  reference: string | null;

  @Field(() => String, { nullable: true, description: 'Why no report is required (status NOT_REQUIRED).' })
  justification: string | null;
}

@ObjectType('Exposure', {
  simpleResolvers: true,
  implements: Node,
  description:
    'How exposed one client is to one incident, computed by the register (never typed in), with the 72-hour clock for deciding whether to report.',
})
export class Exposure extends Node {
  @Field(() => Int, { description: 'Risk score from 0 to 100: the rounded sum of the factor contributions.' })
  score: number;

  @Field(() => ExposureLevel, { description: 'Band of the score.' })
  level: ExposureLevel;

  @Field(() => [ExposureFactor], { description: 'Why the score is what it is.' })
  factors: ExposureFactor[];

  @Field(() => [DataCategory], {
    description:
      'Categories of personal data at risk: each involved agreement’s categories that the incident affects (all of them while unknown).',
  })
  dataCategoriesAtRisk: DataCategory[];

  @Field({ description: 'True when any special category data (Art. 9) is at risk.' })
  specialCategoryData: boolean;

  @Field(() => DateTimeScalar, {
    description:
      "When the client became aware of the incident (rule 5): the earliest of its own notices, the supplier's clientsNotifiedAt (direct clients only) and the register's first computation. Never moves later without a recorded correction.",
  })
  awareAt: Date;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'When the client became aware that personal data of its own was at risk: the earliest notice or revision in which this exposure had data at risk; null while none has been. The personal-data clocks start here.',
  })
  dataAwareAt: Date | null;

  @Field(() => DateTimeScalar, {
    description:
      "UK GDPR Art. 33's deadline: dataAwareAt + 72 hours (awareAt + 72 hours while no personal data is at risk, when there is no breach to report). Informational for a client not under UK GDPR: see obligations.",
  })
  notificationDeadline: Date;

  @Field(() => DateTimeScalar, {
    description:
      'When the register last changed this exposure (a recomputation that changes nothing leaves it as it is).',
  })
  computedAt: Date;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When the exposure stopped applying (the register changed); null while it applies.',
  })
  resolvedAt: Date | null;

  @Field(() => Int, {
    description: 'Revision number; each recomputation that changed the exposure adds one.',
  })
  revision: number;
}
registerNodeType(ExposureEntity, 'Exposure');

export const { EdgeType: ExposureEdge, ConnectionType: ExposureConnection } = connectionTypes(
  Exposure,
  'Exposure',
  'exposures',
);

@ObjectType({
  simpleResolvers: true,
  description: 'What the register said about an exposure from recordedAt until the next revision.',
})
export class ExposureRevision {
  @Field(() => Int, { description: 'Revision number.' })
  revision: number;

  @Field(() => DateTimeScalar, { description: 'When this revision was recorded.' })
  recordedAt: Date;

  @Field(() => Int, { description: 'Score at that time.' })
  score: number;

  @Field(() => ExposureLevel, { description: 'Level at that time.' })
  level: ExposureLevel;

  @Field(() => [ExposureFactor], { description: 'Factors at that time.' })
  factors: ExposureFactor[];

  @Field(() => [DataCategory], { description: 'Categories at risk at that time.' })
  dataCategoriesAtRisk: DataCategory[];

  @Field({ description: 'Special category data at risk at that time.' })
  specialCategoryData: boolean;

  @Field(() => DateTimeScalar, { description: 'awareAt at that time.' })
  awareAt: Date;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'dataAwareAt at that time (null also on revisions written before it was kept).',
  })
  dataAwareAt: Date | null;

  @Field(() => String, {
    nullable: true,
    description: "A correction's stated reason (reason AWARENESS_CORRECTED); null otherwise.",
  })
  note: string | null;

  @Field(() => DateTimeScalar, { description: 'Deadline at that time.' })
  notificationDeadline: Date;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'Set when this revision resolved the exposure.',
  })
  resolvedAt: Date | null;

  @Field(() => ExposureChangeReason, {
    nullable: true,
    description:
      'Why this revision was written; null only for revisions recorded before the register kept reasons.',
  })
  reason: ExposureChangeReason | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'What a procurement lead asks first about an incident. Counts only what you may see.',
})
export class ExposureSummary {
  @Field(() => Int, { description: 'Clients exposed (unresolved exposures).' })
  clientsExposed: number;

  @Field(() => Int, { description: 'Clients whose exposure includes special category data.' })
  clientsWithSpecialCategoryData: number;

  @Field(() => Float, {
    description:
      'People whose data is at risk, summed over the exposed clients (an estimate that counts a person once per agreement; Float because it can pass 2^31). peopleAtRiskRange says how far off it may be.',
  })
  peopleAtRisk: number;

  @Field(() => PeopleRange, {
    description:
      "The people at risk over the exposed clients as a range: low is the largest single exposure's lower bound, high the sum of the upper bounds (see PeopleRange).",
  })
  peopleAtRiskRange: PeopleRange;

  @Field(() => [Money], { description: 'Total value of the contracts involved, one entry per currency.' })
  contractValueInvolved: Money[];

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'The earliest deadline of any open obligation, of any regime, over the exposures you may see that still apply: the smallest Exposure.nextDueAt (it may have passed: an overdue obligation is still open). null: no open obligation has a fixed deadline.',
  })
  nearestDeadline: Date | null;

  @Field(() => Int, { description: 'Exposures at CRITICAL level.' })
  critical: number;

  @Field(() => Int, { description: 'Exposures at HIGH level.' })
  high: number;

  @Field(() => Int, { description: 'Exposures at MEDIUM level.' })
  medium: number;

  @Field(() => Int, { description: 'Exposures at LOW level.' })
  low: number;
}

@ObjectType({
  simpleResolvers: true,
  description:
    'An exposure that recording a simulated incident would create (simulateIncident): the fields an Exposure has that need no stored row. Nothing is written, so it has no id, clock, decision or history.',
})
export class SimulatedExposure {
  @Field(() => Int, { description: 'Risk score from 0 to 100, as the register would compute it.' })
  score: number;

  @Field(() => ExposureLevel, { description: 'Band of the score.' })
  level: ExposureLevel;

  @Field(() => [ExposureFactor], { description: 'Why the score would be what it is.' })
  factors: ExposureFactor[];

  @Field(() => [DataCategory], {
    description:
      "Categories of personal data that would be at risk (each involved agreement's categories that the incident affects).",
  })
  dataCategoriesAtRisk: DataCategory[];

  @Field({ description: 'True when special category data (Art. 9) would be at risk.' })
  specialCategoryData: boolean;
}

export const { EdgeType: SimulatedExposureEdge, ConnectionType: SimulatedExposureConnection } =
  connectionTypes(SimulatedExposure, 'SimulatedExposure', 'simulated exposures');
