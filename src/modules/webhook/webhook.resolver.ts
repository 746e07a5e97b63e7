import {
  Arg,
  Args,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { Context } from '../../context';
import { Connection } from '../../common/connection';
import { encodeGlobalId } from '../../common/global-id';
import { asPayload } from '../../common/mutation';
import { PageArgsType } from '../../common/page-args';
import { childConnection } from '../../common/paging';
import { RemovalPayload } from '../../common/payloads';
import { DateTimeScalar } from '../../common/scalars';
import { UserError } from '../../common/user-error';
import { ClientEntity } from '../client/client.entity';
import { Client } from '../client/client.type';
import { WebhookDeliveryEntity, WebhookEndpointEntity } from './webhook.entity';
import {
  CreateWebhookEndpointInput,
  RemoveWebhookEndpointInput,
  ReplayWebhookInput,
  RotateWebhookSecretInput,
  UpdateWebhookEndpointInput,
  WebhookEndpointFilter,
} from './webhook.inputs';
import { WEBHOOK_DELIVERY_ORDER } from './webhook.loaders';
import { WEBHOOK_CONSTRAINTS } from './webhook.service';
import { WebhookDeliveryConnection, WebhookEndpoint, WebhookEndpointConnection } from './webhook.type';

@ObjectType({ simpleResolvers: true, description: 'The result of a mutation on a webhook endpoint.' })
export class WebhookEndpointPayload {
  @Field(() => WebhookEndpoint, {
    nullable: true,
    description: 'The endpoint after the change; null when nothing was written.',
  })
  endpoint: WebhookEndpointEntity | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The signing secret (whsec_…), only in the answer to createWebhookEndpoint and rotateWebhookSecret: it is never shown again, so store it now. Verify deliveries with it (any Standard Webhooks library).',
  })
  secret: string | null;

  @Field(() => [UserError], { description: 'Why nothing was written; empty on success.' })
  userErrors: UserError[];
}

@Resolver(() => WebhookEndpoint)
export class WebhookResolver {
  @Query(() => WebhookEndpointConnection, {
    description:
      "Webhook endpoints, oldest first. Admin and analyst see all; a client-role caller only its own client's.",
  })
  webhookEndpoints(
    @Args() page: PageArgsType,
    @Arg('filter', () => WebhookEndpointFilter, { nullable: true, description: 'Narrow the list.' })
    filter: WebhookEndpointFilter | null,
    @Ctx() ctx: Context,
  ): Promise<Connection<WebhookEndpointEntity>> {
    return ctx.services.webhook.list(ctx.viewer, filter, page);
  }

  @FieldResolver(() => ID, { description: 'Opaque global ID.' })
  id(@Root() endpoint: WebhookEndpointEntity): string {
    return encodeGlobalId('WebhookEndpoint', endpoint.id);
  }

  @FieldResolver(() => Client, {
    nullable: true,
    description: "The client whose alerts it receives; null: every client's (admin only).",
  })
  client(@Root() endpoint: WebhookEndpointEntity, @Ctx() ctx: Context): Promise<ClientEntity | null> | null {
    return endpoint.clientId ? ctx.loaders.clientById.load(endpoint.clientId) : null;
  }

  @FieldResolver(() => DateTimeScalar, {
    nullable: true,
    description:
      'When the oldest alert this endpoint has not acknowledged yet was recorded; null when it is up to date. Its age is how far behind the endpoint is.',
  })
  async oldestUndeliveredAlertAt(
    @Root() endpoint: WebhookEndpointEntity,
    @Ctx() ctx: Context,
  ): Promise<Date | null> {
    const [at] = await ctx.loaders.oldestUndeliveredAlertAtByEndpoint.load(endpoint.id);
    return at ?? null;
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: 'Delivery attempts, newest first.' })
  deliveries(
    @Root() endpoint: WebhookEndpointEntity,
    @Args() page: PageArgsType,
    @Ctx() ctx: Context,
  ): Promise<Connection<WebhookDeliveryEntity>> {
    return childConnection(
      ctx.loaders.webhookDeliveryPagesByEndpoint.load({ parentId: endpoint.id, ...page }),
      page,
      WEBHOOK_DELIVERY_ORDER,
      () => ctx.loaders.webhookDeliveryCountsByEndpoint.load(endpoint.id),
    );
  }

  @Mutation(() => WebhookEndpointPayload, {
    description:
      'Registers an endpoint; alerts recorded from now on are POSTed to it (older ones with replayWebhook). Admin, for one client or all; a client-role caller, for its own client. The answer carries the signing secret, once.',
  })
  async createWebhookEndpoint(
    @Arg('input', () => CreateWebhookEndpointInput, { description: 'The new endpoint.' })
    input: CreateWebhookEndpointInput,
    @Ctx() ctx: Context,
  ): Promise<WebhookEndpointPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.webhook.create(ctx.viewer, input),
      WEBHOOK_CONSTRAINTS,
    );
    return { endpoint: result?.endpoint ?? null, secret: result?.secret ?? null, userErrors };
  }

  @Mutation(() => WebhookEndpointPayload, {
    description:
      "Changes an endpoint's URL, kinds or description, pauses it, or re-enables it. Admin, or a client-role caller for its own client's endpoints.",
  })
  async updateWebhookEndpoint(
    @Arg('input', () => UpdateWebhookEndpointInput, { description: 'The endpoint and its changes.' })
    input: UpdateWebhookEndpointInput,
    @Ctx() ctx: Context,
  ): Promise<WebhookEndpointPayload> {
    const { result, userErrors } = await asPayload(() => ctx.services.webhook.update(ctx.viewer, input));
    return { endpoint: result, secret: null, userErrors };
  }

  @Mutation(() => RemovalPayload, {
    description: 'Removes an endpoint and its delivery history. Admin, or a client-role caller for its own.',
  })
  async removeWebhookEndpoint(
    @Arg('input', () => RemoveWebhookEndpointInput, { description: 'The endpoint to remove.' })
    input: RemoveWebhookEndpointInput,
    @Ctx() ctx: Context,
  ): Promise<RemovalPayload> {
    const { result, userErrors } = await asPayload(() => ctx.services.webhook.remove(ctx.viewer, input));
    return { removedId: result ? encodeGlobalId('WebhookEndpoint', result) : null, userErrors };
  }

  @Mutation(() => WebhookEndpointPayload, {
    description:
      'Replaces the signing secret; the answer carries the new one, once. The old secret keeps signing alongside it (two signatures in webhook-signature) until previousSecretUntil (WEBHOOK_SECRET_OVERLAP), so receivers can switch without losing a delivery.',
  })
  async rotateWebhookSecret(
    @Arg('input', () => RotateWebhookSecretInput, { description: 'The endpoint.' })
    input: RotateWebhookSecretInput,
    @Ctx() ctx: Context,
  ): Promise<WebhookEndpointPayload> {
    const { result, userErrors } = await asPayload(() =>
      ctx.services.webhook.rotateSecret(ctx.viewer, input),
    );
    return { endpoint: result?.endpoint ?? null, secret: result?.secret ?? null, userErrors };
  }

  @Mutation(() => WebhookEndpointPayload, {
    description:
      'Re-sends every alert after `after` (as the endpoint numbers them) to the endpoint, in order, then goes on with new ones. Receivers that deduplicate by webhook-id see each alert once.',
  })
  async replayWebhook(
    @Arg('input', () => ReplayWebhookInput, { description: 'The endpoint and where to resume.' })
    input: ReplayWebhookInput,
    @Ctx() ctx: Context,
  ): Promise<WebhookEndpointPayload> {
    const { result, userErrors } = await asPayload(() => ctx.services.webhook.replay(ctx.viewer, input));
    return { endpoint: result, secret: null, userErrors };
  }
}
