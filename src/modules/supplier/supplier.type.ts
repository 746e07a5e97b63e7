import { Field, Int, ObjectType } from 'type-graphql';
import { SupplierTier } from '../../common/enums';
import { Node, registerNodeType } from '../../common/node';
import { connectionTypes } from '../../common/connection';
import { DateTimeScalar } from '../../common/scalars';
import { SupplierEntity } from './supplier.entity';

@ObjectType('Supplier', {
  simpleResolvers: true,
  implements: Node,
  description:
    'A company that provides services to client organisations and may process their personal data.',
})
export class Supplier extends Node {
  @Field({ description: 'Registered name.' })
  name: string;

  @Field(() => String, {
    nullable: true,
    description: 'UK Companies House number (8 digits, or 2 letters and 6 digits).',
  })
  companyNumber: string | null;

  @Field(() => String, { nullable: true, description: 'ISO 17442 Legal Entity Identifier (20 characters).' })
  lei: string | null;

  @Field({ description: 'Country of registration, ISO 3166-1 alpha-2 (e.g. GB).' })
  country: string;

  @Field(() => SupplierTier, { description: 'How much the register depends on this supplier.' })
  tier: SupplierTier;

  @Field({ description: "True when the supplier is on the government's strategic supplier list." })
  strategic: boolean;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'When the supplier was removed from the register; null while it is in it. A removed supplier is archived, not deleted: it leaves lists, node() and future exposure computations, while the exposure records that name it (path, history, asOf) still show it.',
  })
  removedAt: Date | null;
}
registerNodeType(SupplierEntity, 'Supplier');

export const { EdgeType: SupplierEdge, ConnectionType: SupplierConnection } = connectionTypes(
  Supplier,
  'Supplier',
  'suppliers',
);

@ObjectType({
  simpleResolvers: true,
  description: 'A supplier that uses another as a sub-processor, directly or through a chain.',
})
export class SupplierDependent {
  @Field(() => Supplier, { description: 'The dependent supplier.' })
  supplier: SupplierEntity;

  @Field(() => Int, {
    description:
      'Links between them on the shortest chain: 1 when it names the supplier as its own sub-processor, 2 through one supplier between, and so on.',
  })
  depth: number;
}

export const { EdgeType: SupplierDependentEdge, ConnectionType: SupplierDependentConnection } =
  connectionTypes(SupplierDependent, 'SupplierDependent', 'dependent suppliers');
