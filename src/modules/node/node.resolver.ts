import { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import { Context } from '../../context';
import { decodeGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';

@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description:
      'Any object by its global ID; null when the ID is malformed, unknown, or names something you may not see.',
  })
  async node(
    @Arg('id', () => ID, { description: 'A global ID returned by this API.' }) id: string,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<object | null> {
    const decoded = decodeGlobalId(id);
    if (!decoded) return null;
    // Each loader applies the viewer's scope, so another client's object is indistinguishable from a missing one.
    // The by-id loaders also serve records (exposure paths and contracts) and so return archived rows: node()
    // does not, since a removed supplier, contract or agreement is no longer in the register (rule 10).
    switch (decoded.type) {
      case 'Supplier':
        return inRegister(await ctx.loaders.supplierById.load(decoded.id));
      case 'Client':
        return ctx.loaders.clientById.load(decoded.id);
      case 'Contract':
        return inRegister(await ctx.loaders.contractById.load(decoded.id));
      case 'DataProcessingAgreement':
        return inRegister(await ctx.loaders.agreementById.load(decoded.id));
      case 'Incident':
        // With connections selected below it, the incident and all of them are one statement (modules/nested-read).
        return (
          ctx.loaders.nestedRead.node(info, 'Incident', decoded.id) ??
          ctx.loaders.incidentById.load(decoded.id)
        );
      case 'Exposure':
        return ctx.loaders.exposureById.load(decoded.id);
      case 'WebhookEndpoint':
        return ctx.loaders.webhookEndpointById.load(decoded.id);
    }
  }
}

function inRegister<T extends { removedAt: Date | null }>(row: T | null): T | null {
  return row && row.removedAt === null ? row : null;
}
