import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsEnum,
  IsInt,
  IsISO31661Alpha2,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { DataCategory } from '../../common/enums';
import { DateScalar } from '../../common/scalars';

@InputType({ description: 'A new data processing agreement under a contract.' })
export class CreateDataProcessingAgreementInput {
  @Field(() => ID, { description: 'The contract the agreement belongs to.' })
  contractId: string;

  @Field({ description: 'Reference, unique within the contract, 1 to 100 characters.' })
  @IsString()
  @Length(1, 100, { message: 'reference must be 1 to 100 characters long' })
  @Matches(/\S/, { message: 'reference must not be blank' })
  reference: string;

  @Field(() => [DataCategory], {
    description: 'Categories of personal data processed; at least one, no repeats.',
  })
  @ArrayMinSize(1, { message: 'dataCategories must name at least one category' })
  @ArrayUnique({ message: 'dataCategories must not repeat a category' })
  @IsEnum(DataCategory, { each: true })
  dataCategories: DataCategory[];

  @Field(() => Int, { description: 'Estimated number of people whose data the supplier holds; 0 or more.' })
  @IsInt()
  @Min(0, { message: 'dataSubjectCount must not be negative' })
  @Max(2_000_000_000, { message: 'dataSubjectCount must be at most 2,000,000,000' })
  dataSubjectCount: number;

  @Field(() => [String], {
    description: 'Countries where the data is processed, ISO 3166-1 alpha-2 in capitals.',
  })
  @ArrayMaxSize(250)
  @ArrayUnique({ message: 'processingLocations must not repeat a country' })
  @IsISO31661Alpha2({
    each: true,
    message: 'each processing location must be an ISO 3166-1 alpha-2 code such as GB',
  })
  @Matches(/^[A-Z]{2}$/, {
    each: true,
    message: 'each processing location must be written in capitals, e.g. GB',
  })
  processingLocations: string[];

  @Field(() => DateScalar, {
    nullable: true,
    description:
      'Last day the supplier holds the data after the contract; not before the contract starts. Null: until the contract ends.',
  })
  dataRetainedUntil?: string | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'Sub-processors authorised under this agreement only (agreement-level links).',
  })
  @IsOptional()
  @ArrayMaxSize(100)
  @ArrayUnique({ message: 'subprocessorIds must not repeat a supplier' })
  subprocessorIds?: string[] | null;
}

@InputType({
  description:
    'Changes to an agreement; omitted fields stay as they are. subprocessorIds, when given, replaces the whole list.',
})
export class UpdateDataProcessingAgreementInput {
  @Field(() => ID, { description: 'The agreement to change.' })
  id: string;

  @Field(() => String, { nullable: true, description: 'New reference.' })
  @IsOptional()
  @IsString()
  @Length(1, 100, { message: 'reference must be 1 to 100 characters long' })
  @Matches(/\S/, { message: 'reference must not be blank' })
  reference?: string | null;

  @Field(() => [DataCategory], { nullable: true, description: 'New categories; at least one.' })
  @IsOptional()
  @ArrayMinSize(1, { message: 'dataCategories must name at least one category' })
  @ArrayUnique({ message: 'dataCategories must not repeat a category' })
  @IsEnum(DataCategory, { each: true })
  dataCategories?: DataCategory[] | null;

  @Field(() => Int, { nullable: true, description: 'New estimate of people; 0 or more.' })
  @IsOptional()
  @IsInt()
  @Min(0, { message: 'dataSubjectCount must not be negative' })
  @Max(2_000_000_000, { message: 'dataSubjectCount must be at most 2,000,000,000' })
  dataSubjectCount?: number | null;

  @Field(() => [String], { nullable: true, description: 'New processing locations.' })
  @IsOptional()
  @ArrayMaxSize(250)
  @ArrayUnique({ message: 'processingLocations must not repeat a country' })
  @IsISO31661Alpha2({
    each: true,
    message: 'each processing location must be an ISO 3166-1 alpha-2 code such as GB',
  })
  @Matches(/^[A-Z]{2}$/, {
    each: true,
    message: 'each processing location must be written in capitals, e.g. GB',
  })
  processingLocations?: string[] | null;

  @Field(() => DateScalar, {
    nullable: true,
    description: 'New retention date; null: until the contract ends.',
  })
  dataRetainedUntil?: string | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'The complete new list of agreement-level sub-processors.',
  })
  @IsOptional()
  @ArrayMaxSize(100)
  @ArrayUnique({ message: 'subprocessorIds must not repeat a supplier' })
  subprocessorIds?: string[] | null;
}

@InputType({ description: 'Removes (archives) a data processing agreement.' })
export class RemoveDataProcessingAgreementInput {
  @Field(() => ID, { description: 'The agreement to remove.' })
  id: string;
}
