import {
  IsEnum,
  IsISO4217CurrencyCode,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import { Field, ID, InputType, registerEnumType } from 'type-graphql';
import { OrderDirection } from '../../common/order-direction';
import { ServiceCriticality } from '../../common/enums';
import { DateScalar, DecimalScalar } from '../../common/scalars';

@InputType({ description: 'An amount of money.' })
export class MoneyInput {
  @Field(() => DecimalScalar, {
    description: 'Exact amount, not negative, at most 2 decimals, e.g. "550000000.00".',
  })
  @Matches(/^[0-9]/, { message: 'amount must not be negative' })
  amount: string;

  @Field({ description: 'ISO 4217 currency code in capitals, e.g. GBP.' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as GBP' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be written in capitals, e.g. GBP' })
  currency: string;
}

@InputType({ description: 'A new contract between a client and a supplier.' })
export class CreateContractInput {
  @Field(() => ID, { description: 'The buying client.' })
  clientId: string;

  @Field(() => ID, { description: 'The supplier providing the service.' })
  supplierId: string;

  @Field({ description: "The client's reference, unique per client, 1 to 100 characters." })
  @IsString()
  @Length(1, 100, { message: 'reference must be 1 to 100 characters long' })
  @Matches(/\S/, { message: 'reference must not be blank' })
  reference: string;

  @Field({ description: 'What is bought, 1 to 300 characters.' })
  @IsString()
  @Length(1, 300, { message: 'title must be 1 to 300 characters long' })
  @Matches(/\S/, { message: 'title must not be blank' })
  title: string;

  @Field(() => MoneyInput, { nullable: true, description: 'Total contract value.' })
  @IsOptional()
  @ValidateNested()
  value?: MoneyInput | null;

  @Field(() => DateScalar, { description: 'First day (inclusive).' })
  startsOn: string;

  @Field(() => DateScalar, {
    nullable: true,
    description: 'Last day (inclusive), not before startsOn; null when open-ended.',
  })
  endsOn?: string | null;

  @Field(() => ServiceCriticality, { description: 'How critical the service is to the client.' })
  @IsEnum(ServiceCriticality)
  criticality: ServiceCriticality;
}

@InputType({
  description: 'Changes to a contract; omitted fields stay as they are, null clears value or endsOn.',
})
export class UpdateContractInput {
  @Field(() => ID, { description: 'The contract to change.' })
  id: string;

  @Field(() => String, { nullable: true, description: 'New reference.' })
  @IsOptional()
  @IsString()
  @Length(1, 100, { message: 'reference must be 1 to 100 characters long' })
  @Matches(/\S/, { message: 'reference must not be blank' })
  reference?: string | null;

  @Field(() => String, { nullable: true, description: 'New title.' })
  @IsOptional()
  @IsString()
  @Length(1, 300, { message: 'title must be 1 to 300 characters long' })
  @Matches(/\S/, { message: 'title must not be blank' })
  title?: string | null;

  @Field(() => MoneyInput, { nullable: true, description: 'New value; null clears it.' })
  @IsOptional()
  @ValidateNested()
  value?: MoneyInput | null;

  @Field(() => DateScalar, { nullable: true, description: 'New first day.' })
  startsOn?: string | null;

  @Field(() => DateScalar, {
    nullable: true,
    description: 'New last day; null makes the contract open-ended.',
  })
  endsOn?: string | null;

  @Field(() => ServiceCriticality, { nullable: true, description: 'New criticality.' })
  @IsOptional()
  @IsEnum(ServiceCriticality)
  criticality?: ServiceCriticality | null;
}

@InputType({ description: 'Removes (archives) a contract and its data processing agreements.' })
export class RemoveContractInput {
  @Field(() => ID, { description: 'The contract to remove.' })
  id: string;
}

/** What a contract list can be ordered by. */
export enum ContractOrderField {
  REFERENCE = 'REFERENCE',
  VALUE = 'VALUE',
  ENDS_ON = 'ENDS_ON',
}

registerEnumType(ContractOrderField, {
  name: 'ContractOrderField',
  description: 'What a contract list is ordered by; ties by reference, then id, in the same direction.',
  valuesConfig: {
    REFERENCE: { description: 'Reference (default ASC). The default order.' },
    VALUE: {
      description:
        'value.amount (default DESC: the largest first), whatever the currency; contracts without a value count as below every value.',
    },
    ENDS_ON: {
      description:
        'endsOn (default ASC: the soonest end first); open-ended contracts (no endsOn) count as ending after every dated one.',
    },
  },
});

@InputType({
  description:
    'The order of a contract list. A cursor belongs to the order it was read in: passing it with another order is an error.',
})
export class ContractOrder {
  @Field(() => ContractOrderField, { description: 'What to order by.' })
  @IsEnum(ContractOrderField)
  field: ContractOrderField;

  @Field(() => OrderDirection, {
    nullable: true,
    description: "The direction; default the field's own (REFERENCE and ENDS_ON: ASC, VALUE: DESC).",
  })
  @IsOptional()
  @IsEnum(OrderDirection)
  direction?: OrderDirection | null;
}
