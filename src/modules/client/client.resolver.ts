import { GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Args,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Info,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { selectedNodeFields } from '../../common/selection';
import { Context } from '../../context';
import { Connection } from '../../common/connection';
import { encodeGlobalId } from '../../common/global-id';
import { asPayload } from '../../common/mutation';
import { PageArgsType } from '../../common/page-args';
import { RemovalPayload } from '../../common/payloads';
import { UserError } from '../../common/user-error';
import { ContractEntity } from '../contract/contract.entity';
import { ContractOrder } from '../contract/contract.inputs';
import { ContractConnection } from '../contract/contract.type';
import { ClientEntity } from './client.entity';
import { ClientFilter, CreateClientInput, RemoveClientInput, UpdateClientInput } from './client.inputs';
import { CLIENT_CONSTRAINTS } from './client.service';
import { Client, ClientConnection } from './client.type';

@ObjectType({ simpleResolvers: true, description: 'The result of a mutation on a client.' })
export class ClientPayload {
  @Field(() => Client, {
    nullable: true,
    description: 'The client after the change; null when nothing was written.',
  })
  client: ClientEntity | null;

  @Field(() => [UserError], { description: 'Why nothing was written; empty on success.' })
  userErrors: UserError[];
}

@Resolver(() => Client)
export class ClientResolver {
  @Query(() => ClientConnection, {
    description: 'Client organisations, by name. A client-role caller sees only its own.',
  })
  clients(
    @Args() page: PageArgsType,
    @Arg('filter', () => ClientFilter, { nullable: true, description: 'Narrow the list.' })
    filter: ClientFilter | null,
    @Ctx() ctx: Context,
  ): Promise<Connection<ClientEntity>> {
    return ctx.services.client.list(ctx.viewer, filter, page);
  }

  @FieldResolver(() => ID, { description: 'Opaque global ID.' })
  id(@Root() client: ClientEntity): string {
    return encodeGlobalId('Client', client.id);
  }

  @FieldResolver(() => ContractConnection, {
    description: "The client's contracts, by reference unless `orderBy` says otherwise.",
  })
  async contracts(
    @Root() client: ClientEntity,
    @Args() page: PageArgsType,
    @Arg('orderBy', () => ContractOrder, {
      nullable: true,
      description: 'The order (default by reference), e.g. { field: VALUE } for the largest first.',
    })
    orderBy: ContractOrder | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<ContractEntity>> {
    const planned = ctx.loaders.nestedRead.connection<ContractEntity>(info, client.id);
    if (planned) return planned;
    return ctx.services.contract.pageForClient(
      ctx.loaders,
      client.id,
      page,
      selectedNodeFields(info),
      orderBy,
    );
  }

  @Mutation(() => ClientPayload, { description: 'Adds a client organisation. Admin only.' })
  async createClient(
    @Arg('input', () => CreateClientInput, { description: 'The new client.' }) input: CreateClientInput,
    @Ctx() ctx: Context,
  ): Promise<ClientPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.client.create(ctx.viewer, input),
      CLIENT_CONSTRAINTS,
    );
    return { client: result, userErrors };
  }

  @Mutation(() => ClientPayload, { description: "Changes a client's details. Admin only." })
  async updateClient(
    @Arg('input', () => UpdateClientInput, { description: 'The client to change and its new details.' })
    input: UpdateClientInput,
    @Ctx() ctx: Context,
  ): Promise<ClientPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.client.update(ctx.viewer, input),
      CLIENT_CONSTRAINTS,
    );
    return { client: result, userErrors };
  }

  @Mutation(() => RemovalPayload, { description: 'Removes a client that has no contracts. Admin only.' })
  async removeClient(
    @Arg('input', () => RemoveClientInput, { description: 'The client to remove.' }) input: RemoveClientInput,
    @Ctx() ctx: Context,
  ): Promise<RemovalPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.client.remove(ctx.viewer, input),
      CLIENT_CONSTRAINTS,
    );
    return { removedId: result ? encodeGlobalId('Client', result) : null, userErrors };
  }
}
