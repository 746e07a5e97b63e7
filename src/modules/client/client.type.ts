import { Field, ObjectType } from 'type-graphql';
import { ClientSector } from '../../common/enums';
import { Node, registerNodeType } from '../../common/node';
import { connectionTypes } from '../../common/connection';
import { ClientEntity } from './client.entity';

@ObjectType('Client', {
  simpleResolvers: true,
  implements: Node,
  description:
    'An organisation that buys from suppliers (a council, a department, an NHS trust). It is the data controller; its suppliers process data for it.',
})
export class Client extends Node {
  @Field({ description: 'Name of the organisation.' })
  name: string;

  @Field(() => ClientSector, { description: 'Sector the organisation belongs to.' })
  sector: ClientSector;

  @Field({
    description:
      "The client's own code, unique in the register (an ONS or ODS code, a ledger code); spreadsheets refer to the client by it (docs/import.md). Clients recorded before it was kept got one made from their name.",
  })
  reference: string;

  @Field({
    description: 'Country of establishment, ISO 3166-1 alpha-2 (clients recorded before it was kept: GB).',
  })
  country: string;
}
registerNodeType(ClientEntity, 'Client');

export const { EdgeType: ClientEdge, ConnectionType: ClientConnection } = connectionTypes(
  Client,
  'Client',
  'clients',
);
