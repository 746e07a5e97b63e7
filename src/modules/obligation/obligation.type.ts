import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../common/scalars';
import { ObligationMilestone, ObligationStatus, RegulatoryRegime } from './regimes';

registerEnumType(RegulatoryRegime, {
  name: 'RegulatoryRegime',
  description: 'A body of law with its own reporting clocks (docs/regulatory-clocks.md).',
  valuesConfig: {
    UK_GDPR: { description: 'UK GDPR: Art. 33 (notify the ICO, 72 h) and Art. 34 (tell the people).' },
    EU_GDPR: { description: 'EU GDPR Art. 33: notify the lead supervisory authority, 72 h.' },
    UK_NIS: { description: 'The UK Network and Information Systems Regulations 2018, reg. 11: 72 h.' },
    NIS2: { description: 'NIS2 Directive Art. 23: early warning 24 h, notification 72 h, final report.' },
    DORA: {
      description: 'DORA Art. 19 with Delegated Regulation (EU) 2025/301: initial, intermediate, final.',
    },
    PECR: {
      description: 'PECR reg. 5A: a communications provider notifies the ICO (72 h since 20 August 2025).',
    },
  },
});

registerEnumType(ObligationMilestone, {
  name: 'ObligationMilestone',
  description: 'One step a regime asks for.',
  valuesConfig: {
    EARLY_WARNING: { description: 'NIS2 early warning.' },
    INITIAL_NOTIFICATION: { description: 'DORA initial notification.' },
    NOTIFICATION: { description: 'The notification to the authority (GDPR, NIS, NIS2, PECR).' },
    INTERMEDIATE_REPORT: { description: 'DORA intermediate report.' },
    FINAL_REPORT: { description: 'NIS2 or DORA final report.' },
    DATA_SUBJECTS: { description: 'Telling the people whose data it is (UK GDPR Art. 34).' },
  },
});

registerEnumType(ObligationStatus, {
  name: 'ObligationStatus',
  description: 'Where an obligation stands at the moment of the request.',
  valuesConfig: {
    NOT_STARTED: {
      description: 'Its trigger has not happened, or has not been recorded (recordObligationTrigger).',
    },
    OPEN: {
      description: 'Started and not yet due soon; or started with no fixed deadline (without undue delay).',
    },
    DUE_SOON: { description: 'Due within 24 hours, or within the last fifth of a clock of a day or less.' },
    OVERDUE: { description: 'Past its deadline with no decision.' },
    MET: { description: 'Reported (a REPORTED decision).' },
    NOT_REQUIRED: { description: 'Decided not required, with a justification (and not widened since).' },
  },
});

@ObjectType({
  simpleResolvers: true,
  description: "One regulator's clock for one exposure: what to do, from when, by when.",
})
export class Obligation {
  @Field(() => RegulatoryRegime, { description: 'The regime.' })
  regime: RegulatoryRegime;

  @Field(() => ObligationMilestone, { description: 'The step within the regime.' })
  milestone: ObligationMilestone;

  @Field({ description: 'What is to be done, in words.' })
  description: string;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When its clock started; null until triggered.',
  })
  startsAt: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When it is due; null before it starts, and for "without undue delay" (no fixed time).',
  })
  dueAt: Date | null;

  @Field(() => ObligationStatus, { description: 'Where it stands now.' })
  status: ObligationStatus;

  @Field({ description: 'The legal reference of the rule in force at its trigger.' })
  source: string;

  @Field({
    description:
      'True when a NOT_REQUIRED decision was taken and the exposure widened since: the obligation is open again until a new decision.',
  })
  reviewNeeded: boolean;
}
