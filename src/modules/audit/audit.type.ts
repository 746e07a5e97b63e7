import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { JSONResolver as GraphQLJSON } from 'graphql-scalars';
import { connectionTypes } from '../../common/connection';
import { DateTimeScalar } from '../../common/scalars';
import { MaxFilterLength } from '../../common/validation';
import { IsOptional } from 'class-validator';

@ObjectType('AuditEvent', {
  simpleResolvers: true,
  description:
    'One change to one register record, recorded in the same transaction as the change. Append-only.',
})
export class AuditEvent {
  @Field(() => ID, { description: 'Ordered id of the audit event.' })
  id: string;

  @Field(() => DateTimeScalar, { description: 'When the change was made.' })
  occurredAt: Date;

  @Field({
    description: "The token subject ('sub') of who made it; 'system' for writes made outside the API.",
  })
  actorSubject: string;

  @Field({ description: 'Role of who made it (admin, analyst, client or system).' })
  actorRole: string;

  @Field(() => ID, {
    nullable: true,
    description: 'Global ID of the client, when a client-role user made it.',
  })
  actorClientId: string | null;

  @Field({ description: 'The GraphQL operation name (or "direct database write").' })
  operation: string;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'The mutation fields and their arguments as received.',
  })
  input: unknown;

  @Field(() => String, {
    nullable: true,
    description: 'Request id, also returned to the caller in x-request-id and error extensions.',
  })
  requestId: string | null;

  @Field({
    description: 'Table of the record: supplier, client, contract, data_processing_agreement, incident, …',
  })
  tableName: string;

  @Field({ description: 'Database id of the record (for link tables: the two ids joined by /).' })
  recordId: string;

  @Field(() => ID, { nullable: true, description: 'Global ID of the record, where it has one.' })
  recordGlobalId: string | null;

  @Field({ description: 'INSERT, UPDATE or DELETE.' })
  action: string;

  @Field(() => GraphQLJSON, { description: 'The record after the change (before it, for DELETE).' })
  rowData: unknown;
}

export const { EdgeType: AuditEventEdge, ConnectionType: AuditEventConnection } = connectionTypes(
  AuditEvent,
  'AuditEvent',
  'audit events',
);

@InputType({ description: 'Filters for the audit trail; all given filters must match.' })
export class AuditEventFilter {
  @Field(() => String, { nullable: true, description: "Only changes by this token subject ('sub')." })
  @IsOptional()
  @MaxFilterLength()
  actorSubject?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only changes to this record (any global ID).' })
  @IsOptional()
  @MaxFilterLength()
  recordId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only this operation name.' })
  @IsOptional()
  @MaxFilterLength()
  operation?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only changes at or after this moment.' })
  from?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only changes before this moment.' })
  to?: Date | null;
}
