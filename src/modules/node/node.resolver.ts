import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { Context } from '../../context';
import { decodeGlobalId } from '../../common/global-id';
import { Node } from '../../common/node';

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'Any object by its global ID; null when the ID is malformed, unknown, or names something you may not see.' })
  async node(@Arg('id', () => ID, { description: 'A global ID returned by this API.' }) id: string, @Ctx() ctx: Context): Promise<object | null> {
    const decoded = decodeGlobalId(id);
    if (!decoded) return null;
    // Each loader applies the viewer's scope, so another client's object is indistinguishable from a missing one.
    switch (decoded.type) {
      case 'Supplier':
        return ctx.loaders.supplierById.load(decoded.id);
      case 'Client':
        return ctx.loaders.clientById.load(decoded.id);
      case 'Contract':
        return ctx.loaders.contractById.load(decoded.id);
      case 'DataProcessingAgreement':
        return ctx.loaders.agreementById.load(decoded.id);
      case 'Incident':
        return ctx.loaders.incidentById.load(decoded.id);
      case 'Exposure':
        return ctx.loaders.exposureById.load(decoded.id);
    }
  }
}
