import { Field, ObjectType } from 'type-graphql';
import { DataCategory, ExfiltrationStatus, IncidentKind, IncidentStatus } from '../../common/enums';
import { Node, registerNodeType } from '../../common/node';
import { connectionTypes } from '../../common/connection';
import { DateTimeScalar } from '../../common/scalars';
import { IncidentEntity } from './incident.entity';

@ObjectType('Incident', {
  simpleResolvers: true,
  implements: Node,
  description:
    'Something that happened at a supplier that may expose its clients: recorded as soon as it is known, then updated as facts arrive.',
})
export class Incident extends Node {
  @Field({ description: 'Short description.' })
  title: string;

  @Field(() => IncidentKind, { description: 'What kind of incident.' })
  kind: IncidentKind;

  @Field(() => IncidentStatus, { description: 'Where the incident stands.' })
  status: IncidentStatus;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'First unauthorised access or start of the exposure; null when not known (detectedAt is used instead).',
  })
  startedAt: Date | null;

  @Field(() => DateTimeScalar, { description: 'When the supplier detected it.' })
  detectedAt: Date;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When it was contained; null while still open.',
  })
  containedAt: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the supplier told its clients.' })
  clientsNotifiedAt: Date | null;

  @Field(() => [DataCategory], {
    nullable: true,
    description:
      'Categories of personal data affected; null while not yet known, which treats every category as at risk.',
  })
  dataCategoriesAffected: DataCategory[] | null;

  @Field(() => ExfiltrationStatus, { description: 'Whether data was taken out.' })
  exfiltration: ExfiltrationStatus;
}
registerNodeType(IncidentEntity, 'Incident');

export const { EdgeType: IncidentEdge, ConnectionType: IncidentConnection } = connectionTypes(
  Incident,
  'Incident',
  'incidents',
);
