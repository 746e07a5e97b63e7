import { IsBoolean, IsEnum, IsISO31661Alpha2, IsOptional, IsString, Length, Matches } from 'class-validator';
import { Field, ID, InputType, registerEnumType } from 'type-graphql';
import { OrderDirection } from '../../common/order-direction';
import { SupplierTier } from '../../common/enums';
import { IsLei, MaxFilterLength } from '../../common/validation';

const COMPANY_NUMBER = /^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$/;
const COMPANY_NUMBER_MESSAGE =
  'companyNumber must be a UK Companies House number: 8 digits, or 2 capital letters and 6 digits (e.g. 02081330, SC123456)';

@InputType({ description: 'Filters for the supplier list; all given filters must match.' })
export class SupplierFilter {
  @Field(() => String, {
    nullable: true,
    description: 'Case-insensitive text found in the name, company number or LEI; at most 200 characters.',
  })
  @IsOptional()
  @MaxFilterLength()
  search?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Only strategic (true) or only non-strategic (false) suppliers.',
  })
  strategic?: boolean | null;

  @Field(() => SupplierTier, { nullable: true, description: 'Only suppliers of this tier.' })
  tier?: SupplierTier | null;
}

@InputType({ description: 'A new supplier.' })
export class CreateSupplierInput {
  @Field({ description: 'Registered name, 1 to 200 characters.' })
  @IsString()
  @Length(1, 200, { message: 'name must be 1 to 200 characters long' })
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @Field(() => String, {
    nullable: true,
    description: 'UK Companies House number (8 digits, or 2 letters and 6 digits).',
  })
  @IsOptional()
  @Matches(COMPANY_NUMBER, { message: COMPANY_NUMBER_MESSAGE })
  companyNumber?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'ISO 17442 Legal Entity Identifier; the check digits are verified.',
  })
  @IsOptional()
  @IsLei()
  lei?: string | null;

  @Field({ description: 'Country of registration, ISO 3166-1 alpha-2 in capitals (e.g. GB).' })
  @IsISO31661Alpha2({ message: 'country must be an ISO 3166-1 alpha-2 code such as GB' })
  @Matches(/^[A-Z]{2}$/, { message: 'country must be written in capitals, e.g. GB' })
  country: string;

  @Field(() => SupplierTier, { description: 'How much the register depends on this supplier.' })
  @IsEnum(SupplierTier)
  tier: SupplierTier;

  @Field(() => Boolean, {
    nullable: true,
    description: "On the government's strategic supplier list. Default false.",
  })
  @IsOptional()
  @IsBoolean()
  strategic?: boolean | null;
}

@InputType({
  description: 'Changes to a supplier; omitted fields stay as they are, null clears an optional field.',
})
export class UpdateSupplierInput {
  @Field(() => ID, { description: 'The supplier to change.' })
  id: string;

  @Field(() => String, { nullable: true, description: 'New registered name.' })
  @IsOptional()
  @IsString()
  @Length(1, 200, { message: 'name must be 1 to 200 characters long' })
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'New Companies House number; null clears it.' })
  @IsOptional()
  @Matches(COMPANY_NUMBER, { message: COMPANY_NUMBER_MESSAGE })
  companyNumber?: string | null;

  @Field(() => String, { nullable: true, description: 'New LEI; null clears it.' })
  @IsOptional()
  @IsLei()
  lei?: string | null;

  @Field(() => String, { nullable: true, description: 'New country, ISO 3166-1 alpha-2.' })
  @IsOptional()
  @IsISO31661Alpha2({ message: 'country must be an ISO 3166-1 alpha-2 code such as GB' })
  @Matches(/^[A-Z]{2}$/, { message: 'country must be written in capitals, e.g. GB' })
  country?: string | null;

  @Field(() => SupplierTier, { nullable: true, description: 'New tier.' })
  @IsOptional()
  @IsEnum(SupplierTier)
  tier?: SupplierTier | null;

  @Field(() => Boolean, { nullable: true, description: 'New strategic flag.' })
  @IsOptional()
  @IsBoolean()
  strategic?: boolean | null;
}

@InputType({
  description:
    'Removes (archives) a supplier that has no contracts, no open incident and nothing relying on it as a sub-processor.',
})
export class RemoveSupplierInput {
  @Field(() => ID, { description: 'The supplier to remove.' })
  id: string;
}

@InputType({
  description:
    'A supplier-level sub-processor link: the supplier relies on the sub-processor for all the data it holds.',
})
export class AddSubprocessorInput {
  @Field(() => ID, { description: 'The supplier that relies on the sub-processor.' })
  supplierId: string;

  @Field(() => ID, { description: 'The sub-processor.' })
  subprocessorId: string;
}

@InputType({ description: 'Removes a supplier-level sub-processor link.' })
export class RemoveSubprocessorInput {
  @Field(() => ID, { description: 'The supplier that relied on the sub-processor.' })
  supplierId: string;

  @Field(() => ID, { description: 'The sub-processor to unlink.' })
  subprocessorId: string;
}

/** What the supplier list can be ordered by. */
export enum SupplierOrderField {
  NAME = 'NAME',
  DEPENDENTS = 'DEPENDENTS',
}

registerEnumType(SupplierOrderField, {
  name: 'SupplierOrderField',
  description: 'What the supplier list is ordered by; ties by name, then id, in the same direction.',
  valuesConfig: {
    NAME: { description: 'Name (default ASC). The default order.' },
    DEPENDENTS: {
      description:
        'How many suppliers use it as a sub-processor, directly or through chains (Supplier.dependents totalCount; default DESC: who depends on AWS, most first).',
    },
  },
});

@InputType({
  description:
    'The order of the supplier list. A cursor belongs to the order it was read in: passing it with another order is an error.',
})
export class SupplierOrder {
  @Field(() => SupplierOrderField, { description: 'What to order by.' })
  @IsEnum(SupplierOrderField)
  field: SupplierOrderField;

  @Field(() => OrderDirection, {
    nullable: true,
    description: "The direction; default the field's own (NAME: ASC, DEPENDENTS: DESC).",
  })
  @IsOptional()
  @IsEnum(OrderDirection)
  direction?: OrderDirection | null;
}
