import { Field, ID, ObjectType } from 'type-graphql';
import { UserError } from './user-error';

@ObjectType({ simpleResolvers: true, description: 'The result of a remove mutation.' })
export class RemovalPayload {
  @Field(() => ID, {
    nullable: true,
    description: 'Global ID of the removed object; null when nothing was removed.',
  })
  removedId: string | null;

  @Field(() => [UserError], { description: 'Why nothing was removed; empty on success.' })
  userErrors: UserError[];
}
