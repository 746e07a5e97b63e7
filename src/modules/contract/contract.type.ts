import { Field, ObjectType } from 'type-graphql';
import { ServiceCriticality } from '../../common/enums';
import { Node, registerNodeType } from '../../common/node';
import { connectionTypes } from '../../common/connection';
import { DateScalar, DateTimeScalar, DecimalScalar } from '../../common/scalars';
import { ContractEntity } from './contract.entity';

@ObjectType({ simpleResolvers: true, description: 'An amount of money in one currency.' })
export class Money {
  @Field(() => DecimalScalar, { description: 'Exact amount, e.g. "550000000.00".' })
  amount: string;

  @Field({ description: 'ISO 4217 currency code, e.g. GBP.' })
  currency: string;
}

@ObjectType('Contract', {
  simpleResolvers: true,
  implements: Node,
  description: 'A client buys a service from a supplier, from startsOn to endsOn.',
})
export class Contract extends Node {
  @Field({ description: "The client's reference for the contract, unique per client." })
  reference: string;

  @Field({ description: 'What is bought.' })
  title: string;

  @Field(() => DateScalar, { description: 'First day of the contract (inclusive, UTC).' })
  startsOn: string;

  @Field(() => DateScalar, {
    nullable: true,
    description: 'Last day of the contract (inclusive, UTC); null when open-ended.',
  })
  endsOn: string | null;

  @Field(() => ServiceCriticality, { description: 'How critical the service is to the client.' })
  criticality: ServiceCriticality;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'When the contract was removed from the register (with its agreements); null while it is in it. A removed contract is archived, not deleted: it leaves lists, node() and future exposure computations, while the exposures that ran through it still show it, and its reference may be used again.',
  })
  removedAt: Date | null;
}
registerNodeType(ContractEntity, 'Contract');

export const { EdgeType: ContractEdge, ConnectionType: ContractConnection } = connectionTypes(
  Contract,
  'Contract',
  'contracts',
);
