import { ArgsType, Field, Int } from 'type-graphql';

@ArgsType()
export class PageArgsType {
  @Field(() => Int, {
    nullable: true,
    description: 'How many items to return, 0 to 100 (default 20). Outside that range is an error.',
  })
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Return the items after this cursor (an endCursor or edge cursor of the same list).',
  })
  after?: string | null;
}
