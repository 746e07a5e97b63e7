import { IsEnum, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../common/scalars';
import { OrderDirection } from '../../common/order-direction';
import { MaxFilterLength } from '../../common/validation';
import { ObligationMilestone, RegulatoryRegime } from '../obligation/regimes';
import { ExposureLevel, NotificationStatus } from './exposure.entity';

@InputType({ description: 'Filters for exposure lists; all given filters must match.' })
export class ExposureFilter {
  @Field(() => ID, { nullable: true, description: 'Only this client’s exposures.' })
  @IsOptional()
  @MaxFilterLength()
  clientId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only exposures to this incident.' })
  @IsOptional()
  @MaxFilterLength()
  incidentId?: string | null;

  @Field(() => ExposureLevel, { nullable: true, description: 'Only exposures at this level or above.' })
  minLevel?: ExposureLevel | null;

  @Field(() => NotificationStatus, {
    nullable: true,
    description: 'Only exposures with this notification decision.',
  })
  notificationStatus?: NotificationStatus | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Include exposures that no longer apply (resolved). Default false.',
  })
  includeResolved?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'true: only exposures with an OVERDUE obligation (nextDueAt has passed); false: only those without one. Any regime.',
  })
  overdue?: boolean | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'Only exposures with an open obligation due before this moment (nextDueAt < dueBefore), overdue ones included.',
  })
  dueBefore?: Date | null;
}

/** What an exposure list can be ordered by. */
export enum ExposureOrderField {
  SCORE = 'SCORE',
  NEXT_DUE = 'NEXT_DUE',
  CLIENT_NAME = 'CLIENT_NAME',
}

registerEnumType(ExposureOrderField, {
  name: 'ExposureOrderField',
  description: 'What an exposure list is ordered by; ties in id order, in the same direction.',
  valuesConfig: {
    SCORE: { description: 'Score (default DESC: highest first). The default order of every exposure list.' },
    NEXT_DUE: {
      description:
        'nextDueAt (default ASC: the soonest deadline first; exposures with no open deadline come after every dated one).',
    },
    CLIENT_NAME: { description: "The client's name (default ASC)." },
  },
});

@InputType({
  description:
    'The order of an exposure list. A cursor belongs to the order it was read in: passing it with another order is an error.',
})
export class ExposureOrder {
  @Field(() => ExposureOrderField, { description: 'What to order by.' })
  @IsEnum(ExposureOrderField)
  field: ExposureOrderField;

  @Field(() => OrderDirection, {
    nullable: true,
    description: "The direction; default the field's own (SCORE: DESC, NEXT_DUE and CLIENT_NAME: ASC).",
  })
  @IsOptional()
  @IsEnum(OrderDirection)
  direction?: OrderDirection | null;
}

@InputType({ description: "A client's decision on reporting an exposure's breach to the regulator." })
export class RecordNotificationDecisionInput {
  @Field(() => ID, { description: 'The exposure decided on.' })
  exposureId: string;

  @Field(() => NotificationStatus, {
    description: 'REPORTED (needs reportedAt), NOT_REQUIRED (needs a justification) or back to ASSESSING.',
  })
  @IsEnum(NotificationStatus)
  status: NotificationStatus;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'When it was reported; required for REPORTED, not in the future and not before the incident started.',
  })
  reportedAt?: Date | null;

  @Field(() => String, {
    nullable: true,
    description: "The regulator's case reference (usually given with REPORTED).",
  })
  @IsOptional()
  @IsString()
  @MaxLength(100, { message: 'reference must be at most 100 characters long' })
  reference?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Why the breach needs no report; required for NOT_REQUIRED.',
  })
  @IsOptional()
  @IsString()
  @Length(0, 5000, { message: 'justification must be at most 5000 characters long' })
  justification?: string | null;

  @Field(() => RegulatoryRegime, { nullable: true, description: 'The regime decided on; default UK_GDPR.' })
  @IsOptional()
  @IsEnum(RegulatoryRegime)
  regime?: RegulatoryRegime | null;

  @Field(() => ObligationMilestone, {
    nullable: true,
    description: "The milestone decided on; default NOTIFICATION. It must be one of the regime's milestones.",
  })
  @IsOptional()
  @IsEnum(ObligationMilestone)
  milestone?: ObligationMilestone | null;

  @Field(() => String, { nullable: true, description: 'The facts of the breach (Art. 33(5)).' })
  @IsOptional()
  @IsString()
  @Length(0, 5000, { message: 'facts must be at most 5000 characters long' })
  facts?: string | null;

  @Field(() => String, { nullable: true, description: 'Its effects (Art. 33(5)).' })
  @IsOptional()
  @IsString()
  @Length(0, 5000, { message: 'effects must be at most 5000 characters long' })
  effects?: string | null;

  @Field(() => String, { nullable: true, description: 'The remedial action taken (Art. 33(5)).' })
  @IsOptional()
  @IsString()
  @Length(0, 5000, { message: 'remedialAction must be at most 5000 characters long' })
  remedialAction?: string | null;
}
