import { Field, Float, Int, ObjectType } from 'type-graphql';
import { connectionTypes } from '../../common/connection';
import { PeopleRange } from '../exposure/exposure.type';
import { Supplier } from '../supplier/supplier.type';
import { SupplierEntity } from '../supplier/supplier.entity';

@ObjectType({
  simpleResolvers: true,
  description:
    "How much of the register depends on one supplier today: the clients, contracts and people an incident there today would reach, directly or through sub-processor chains (the exposure engine's rules 2 and 3 with an incident window of today). A client-role caller sees the figures of its own contracts only.",
})
export class SupplierConcentration {
  @Field(() => Supplier, { description: 'The supplier.' })
  supplier: SupplierEntity;

  @Field(() => Int, {
    description:
      'Distinct clients with a contract in force or holding data today that reaches the supplier: with it directly, through supplier-level sub-processor chains, or through an agreement naming it (or a supplier that reaches it) as a sub-processor.',
  })
  clientsReached: number;

  @Field(() => Int, { description: 'Distinct clients with such a contract directly with the supplier.' })
  directClients: number;

  @Field(() => Int, { description: 'Distinct contracts that reach the supplier.' })
  contracts: number;

  @Field(() => Int, { description: 'Of those, the CRITICAL ones.' })
  criticalContracts: number;

  @Field(() => Float, {
    description:
      'criticalContracts divided by all CRITICAL contracts in force or holding data today (that you may see), 0 to 1; 0 when there are none. "73% of critical services depend on the same cloud provider" is 0.73 here.',
  })
  criticalServiceShare: number;

  @Field(() => Int, {
    description: 'Distinct clients whose reaching agreements include special category data (Art. 9).',
  })
  specialCategoryClients: number;

  @Field(() => PeopleRange, {
    description:
      'People whose data the reaching agreements hold today, as a range: the largest single agreement to the sum over agreements (each agreement counted once; the same people are often in several).',
  })
  peopleRange: PeopleRange;
}

export const { EdgeType: SupplierConcentrationEdge, ConnectionType: SupplierConcentrationConnection } =
  connectionTypes(SupplierConcentration, 'SupplierConcentration', 'supplier concentrations');
