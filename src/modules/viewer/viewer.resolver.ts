import { Ctx, Field, FieldResolver, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Viewer as ViewerValue } from '../../auth/viewer';
import { Context } from '../../context';
import { ClientEntity } from '../client/client.entity';
import { Client } from '../client/client.type';

@ObjectType({
  simpleResolvers: true,
  description: 'Who is asking: what the bearer token says, as the register applies it.',
})
export class Viewer {
  @Field({ description: "The token's subject (sub), the name the audit trail and decisions record." })
  subject: string;

  @Field({ description: 'admin, analyst or client: what the token may do.' })
  role: string;
}

@Resolver(() => Viewer)
export class ViewerResolver {
  @Query(() => Viewer, {
    description: 'Who am I: the subject, role and (for role client) client of my token.',
  })
  viewer(@Ctx() ctx: Context): ViewerValue {
    return ctx.viewer;
  }

  @FieldResolver(() => Client, {
    nullable: true,
    description: 'For a client-role token, the client it acts for; null for admin and analyst.',
  })
  client(@Root() viewer: ViewerValue, @Ctx() ctx: Context): Promise<ClientEntity | null> | null {
    return viewer.clientId ? ctx.loaders.clientById.load(viewer.clientId) : null;
  }
}
