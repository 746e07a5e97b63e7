import {
  ArrayUnique,
  IsEnum,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  Length,
  Matches,
  Max,
} from 'class-validator';
import { Field, Float, ID, InputType } from 'type-graphql';
import { DataCategory, ExfiltrationStatus, IncidentKind, IncidentStatus } from '../../common/enums';
import { DateTimeScalar } from '../../common/scalars';
import { MaxFilterLength } from '../../common/validation';

const SHARE_DESCRIPTION =
  "The share of the supplier's data the incident reached, more than 0 and at most 1, at most 4 decimal places (Capita said about 4% of its servers: 0.04). It scales the people-at-risk ranges, not the score.";

/** More than 0, at most 1, at most 4 decimal places (stored exactly as numeric(5,4)). */
function ShareOfData(): PropertyDecorator {
  const decorators = [
    IsNumber(
      { maxDecimalPlaces: 4, allowNaN: false, allowInfinity: false },
      { message: 'shareOfDataAffected must be a number with at most 4 decimal places, e.g. 0.04' },
    ),
    Max(1, { message: 'shareOfDataAffected must be at most 1 (all of the data)' }),
    IsPositive({
      message:
        'shareOfDataAffected must be more than 0; when no data is affected, set dataCategoriesAffected to an empty list',
    }),
  ];
  return (target, key) => decorators.forEach((decorator) => decorator(target, key));
}

@InputType({ description: 'Filters for the incident list; all given filters must match.' })
export class IncidentFilter {
  @Field(() => ID, { nullable: true, description: 'Only incidents at this supplier.' })
  @IsOptional()
  @MaxFilterLength()
  supplierId?: string | null;

  @Field(() => IncidentStatus, { nullable: true, description: 'Only incidents with this status.' })
  status?: IncidentStatus | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'Only incidents detected at or after this moment (detectedAt >= detectedFrom).',
  })
  detectedFrom?: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'Only incidents detected before this moment (detectedAt < detectedBefore).',
  })
  detectedBefore?: Date | null;
}

@InputType({
  description:
    'A new incident at a supplier. Exposures of every client are computed in the same transaction.',
})
export class RecordIncidentInput {
  @Field(() => ID, { description: 'The supplier where it happened.' })
  supplierId: string;

  @Field({ description: 'Short description, 1 to 300 characters.' })
  @IsString()
  @Length(1, 300, { message: 'title must be 1 to 300 characters long' })
  @Matches(/\S/, { message: 'title must not be blank' })
  title: string;

  @Field(() => IncidentKind, { description: 'What kind of incident.' })
  @IsEnum(IncidentKind)
  kind: IncidentKind;

  @Field(() => IncidentStatus, { description: 'Where it stands.' })
  @IsEnum(IncidentStatus)
  status: IncidentStatus;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'First unauthorised access; not after detectedAt.',
  })
  startedAt?: Date | null;

  @Field(() => DateTimeScalar, {
    description:
      'When the supplier detected it; not in the future (a few minutes of clock difference are allowed).',
  })
  detectedAt: Date;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When it was contained; not before it started. Required with status CONTAINED.',
  })
  containedAt?: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When the supplier told its clients; not before detectedAt.',
  })
  clientsNotifiedAt?: Date | null;

  @Field(() => [DataCategory], {
    nullable: true,
    description: 'Affected categories; omit or null while unknown (every category counts as at risk).',
  })
  @IsOptional()
  @ArrayUnique({ message: 'dataCategoriesAffected must not repeat a category' })
  @IsEnum(DataCategory, { each: true })
  dataCategoriesAffected?: DataCategory[] | null;

  @Field(() => ExfiltrationStatus, { description: 'Whether data was taken out.' })
  @IsEnum(ExfiltrationStatus)
  exfiltration: ExfiltrationStatus;

  @Field(() => Float, {
    nullable: true,
    description: `${SHARE_DESCRIPTION} Omit or null while not known (taken as all of it).`,
  })
  @IsOptional()
  @ShareOfData()
  shareOfDataAffected?: number | null;
}

@InputType({
  description:
    'An incident that has not happened (or is not recorded): the same fields as RecordIncidentInput, so the same variables can be recorded afterwards. Nothing is written.',
})
export class SimulateIncidentInput extends RecordIncidentInput {}

@InputType({
  description:
    'New facts about an incident; omitted fields stay as they are, null clears a time or makes the categories unknown again.',
})
export class UpdateIncidentInput {
  @Field(() => ID, { description: 'The incident to update.' })
  id: string;

  @Field(() => String, { nullable: true, description: 'New title.' })
  @IsOptional()
  @IsString()
  @Length(1, 300, { message: 'title must be 1 to 300 characters long' })
  @Matches(/\S/, { message: 'title must not be blank' })
  title?: string | null;

  @Field(() => IncidentKind, { nullable: true, description: 'Corrected kind.' })
  @IsOptional()
  @IsEnum(IncidentKind)
  kind?: IncidentKind | null;

  @Field(() => IncidentStatus, { nullable: true, description: 'New status.' })
  @IsOptional()
  @IsEnum(IncidentStatus)
  status?: IncidentStatus | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Corrected start; null: unknown.' })
  startedAt?: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'Corrected detection time, not in the future; it cannot be cleared (null is refused).',
  })
  detectedAt?: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'When it was contained, not before it started; null: still open (not allowed with status CONTAINED).',
  })
  containedAt?: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      "When the supplier told its direct clients; not before detectedAt. Moving it later, or clearing it, is a correction: it needs awarenessCorrectionReason, since it may move clients' awareness (and deadlines) later.",
  })
  clientsNotifiedAt?: Date | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Why clientsNotifiedAt moves later or is cleared; required then. Clients' awareness is recomputed from what is recorded, and the earlier value stays in their exposures' history (with an alert).",
  })
  @IsOptional()
  @IsString()
  @Length(1, 5000, { message: 'awarenessCorrectionReason must be 1 to 5000 characters long' })
  awarenessCorrectionReason?: string | null;

  @Field(() => [DataCategory], {
    nullable: true,
    description: 'Affected categories as now known; null: unknown again.',
  })
  @IsOptional()
  @ArrayUnique({ message: 'dataCategoriesAffected must not repeat a category' })
  @IsEnum(DataCategory, { each: true })
  dataCategoriesAffected?: DataCategory[] | null;

  @Field(() => ExfiltrationStatus, {
    nullable: true,
    description: 'Whether data was taken out, as now known.',
  })
  @IsOptional()
  @IsEnum(ExfiltrationStatus)
  exfiltration?: ExfiltrationStatus | null;

  @Field(() => Float, {
    nullable: true,
    description: `${SHARE_DESCRIPTION} null: not known again (taken as all of it).`,
  })
  @IsOptional()
  @ShareOfData()
  shareOfDataAffected?: number | null;
}
