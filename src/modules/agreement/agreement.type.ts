import { Field, Int, ObjectType } from 'type-graphql';
import { DataCategory } from '../../common/enums';
import { Node, registerNodeType } from '../../common/node';
import { DateScalar, DateTimeScalar } from '../../common/scalars';
import { AgreementEntity } from './agreement.entity';

@ObjectType('DataProcessingAgreement', {
  simpleResolvers: true,
  implements: Node,
  description:
    'A data processing agreement (UK GDPR Art. 28) under a contract: which personal data the supplier processes for the client, for how many people, where, and through which sub-processors.',
})
export class DataProcessingAgreement extends Node {
  @Field({ description: 'Reference of the agreement, unique within its contract.' })
  reference: string;

  @Field(() => [DataCategory], { description: 'Categories of personal data processed.' })
  dataCategories: DataCategory[];

  @Field(() => Int, { description: 'Estimated number of people whose data the supplier holds.' })
  dataSubjectCount: number;

  @Field(() => [String], { description: 'Countries where the data is processed, ISO 3166-1 alpha-2.' })
  processingLocations: string[];

  @Field(() => DateScalar, {
    nullable: true,
    description:
      'Last day the supplier still holds the data after the contract; null: until the contract ends.',
  })
  dataRetainedUntil: string | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      "When the agreement was removed from the register (on its own, or with its contract); null while it is in it. A removed agreement is archived, not deleted: it leaves its contract's list, node() and future exposure computations, and its reference may be used again.",
  })
  removedAt: Date | null;
}
registerNodeType(AgreementEntity, 'DataProcessingAgreement');
