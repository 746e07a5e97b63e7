import { IsEnum, IsOptional, IsString, Length, Matches } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { DateTimeScalar } from '../../common/scalars';
import { RegulatoryRegime } from './regimes';

@InputType({ description: 'When a client was told of an incident (its own notice, rule 5).' })
export class RecordClientNoticeInput {
  @Field(() => ID, { description: 'The incident.' })
  incidentId: string;

  @Field(() => ID, { description: 'The client that was told.' })
  clientId: string;

  @Field(() => DateTimeScalar, {
    description: 'When it was told; not in the future, not before the incident was detected.',
  })
  noticeAt: Date;

  @Field(() => String, {
    nullable: true,
    description: 'How (email from the supplier, phone call, the regulator...).',
  })
  @IsOptional()
  @IsString()
  @Length(0, 200, { message: 'channel must be at most 200 characters long' })
  channel?: string | null;

  @Field(() => String, { nullable: true, description: 'Anything worth keeping about the notice.' })
  @IsOptional()
  @IsString()
  @Length(0, 5000, { message: 'note must be at most 5000 characters long' })
  note?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Makes this notice a correction: it replaces the client's earlier notices, and may move its awareness later (kept in history, with an alert). Required when the notice is later than the client's awareness and meant to replace it.",
  })
  @IsOptional()
  @IsString()
  @Length(0, 5000, { message: 'reason must be at most 5000 characters long' })
  reason?: string | null;
}

@InputType({
  description:
    'Records what the register cannot know: the incident was classified as major (DORA), judged significant (NIS, NIS2) or of high risk to people (GDPR Art. 34).',
})
export class RecordObligationTriggerInput {
  @Field(() => ID, { description: 'The exposure.' })
  exposureId: string;

  @Field(() => RegulatoryRegime, { description: 'The regime whose trigger this is.' })
  @IsEnum(RegulatoryRegime)
  regime: RegulatoryRegime;

  @Field(() => DateTimeScalar, {
    description: 'When it happened (the classification, the judgement); not in the future.',
  })
  triggeredAt: Date;

  @Field({ description: 'Why: the basis of the classification or judgement.' })
  @IsString()
  @Length(1, 5000, { message: 'reason must be 1 to 5000 characters long' })
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason: string;
}
