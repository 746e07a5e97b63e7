import { ArrayMaxSize, IsEnum, IsOptional, IsString, Length, Matches } from 'class-validator';
import { RegulatoryRegime } from '../obligation/regimes';
import { Field, ID, InputType } from 'type-graphql';
import { ClientSector } from '../../common/enums';
import { MaxFilterLength } from '../../common/validation';

/** No surrounding spaces, no control characters (the database's client_reference_format says the same). */
export const CLIENT_REFERENCE_PATTERN = /^(?!\s)(?!.*\s$)[^\p{Cc}]+$/su;

@InputType({ description: 'Filters for the client list; all given filters must match.' })
export class ClientFilter {
  @Field(() => String, {
    nullable: true,
    description: 'Case-insensitive text found in the name; at most 200 characters.',
  })
  @IsOptional()
  @MaxFilterLength()
  search?: string | null;

  @Field(() => ClientSector, { nullable: true, description: 'Only clients of this sector.' })
  sector?: ClientSector | null;
}

@InputType({ description: 'A new client organisation.' })
export class CreateClientInput {
  @Field({ description: 'Name of the organisation, 1 to 200 characters.' })
  @IsString()
  @Length(1, 200, { message: 'name must be 1 to 200 characters long' })
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @Field(() => ClientSector, { description: 'Sector the organisation belongs to.' })
  @IsEnum(ClientSector)
  sector: ClientSector;

  @Field(() => String, {
    nullable: true,
    description:
      "The client's own code, unique in the register (an ONS or ODS code, a ledger code), 1 to 100 characters without leading or trailing spaces; spreadsheets refer to the client by it. Omitted: one is made from the name (COLCHESTER-CITY-COUNCIL-3F9A1C).",
  })
  @IsOptional()
  @IsString()
  @Length(1, 100, { message: 'reference must be 1 to 100 characters long' })
  @Matches(CLIENT_REFERENCE_PATTERN, {
    message: 'reference must not start or end with a space, nor hold control characters',
  })
  reference?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Country of establishment, ISO 3166-1 alpha-2 (GB, IE, DE...); default GB.',
  })
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, {
    message: 'country must be an ISO 3166-1 alpha-2 code in capitals, such as GB or IE',
  })
  country?: string | null;

  @Field(() => [RegulatoryRegime], {
    nullable: true,
    description:
      'The regulatory regimes the client is under; omitted: the defaults from sector and country (docs/regulatory-clocks.md).',
  })
  @IsOptional()
  @IsEnum(RegulatoryRegime, { each: true })
  @ArrayMaxSize(6)
  regimes?: RegulatoryRegime[] | null;
}

@InputType({ description: 'Changes to a client; omitted fields stay as they are.' })
export class UpdateClientInput {
  @Field(() => ID, { description: 'The client to change.' })
  id: string;

  @Field(() => String, { nullable: true, description: 'New name.' })
  @IsOptional()
  @IsString()
  @Length(1, 200, { message: 'name must be 1 to 200 characters long' })
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string | null;

  @Field(() => ClientSector, { nullable: true, description: 'New sector.' })
  @IsOptional()
  @IsEnum(ClientSector)
  sector?: ClientSector | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The client's own code, unique in the register (an ONS or ODS code, a ledger code), 1 to 100 characters without leading or trailing spaces; spreadsheets refer to the client by it. Omitted: unchanged.",
  })
  @IsOptional()
  @IsString()
  @Length(1, 100, { message: 'reference must be 1 to 100 characters long' })
  @Matches(CLIENT_REFERENCE_PATTERN, {
    message: 'reference must not start or end with a space, nor hold control characters',
  })
  reference?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Country of establishment, ISO 3166-1 alpha-2 (GB, IE, DE...); omitted: unchanged.',
  })
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, {
    message: 'country must be an ISO 3166-1 alpha-2 code in capitals, such as GB or IE',
  })
  country?: string | null;

  @Field(() => [RegulatoryRegime], {
    nullable: true,
    description:
      'The regulatory regimes the client is under; omitted: unchanged; an empty list goes back to the defaults from sector and country (docs/regulatory-clocks.md).',
  })
  @IsOptional()
  @IsEnum(RegulatoryRegime, { each: true })
  @ArrayMaxSize(6)
  regimes?: RegulatoryRegime[] | null;
}

@InputType({ description: 'Removes a client that has no contracts.' })
export class RemoveClientInput {
  @Field(() => ID, { description: 'The client to remove.' })
  id: string;
}
