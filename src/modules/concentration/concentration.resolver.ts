import { Arg, Args, Ctx, Query, Resolver } from 'type-graphql';
import { Connection } from '../../common/connection';
import { PageArgsType } from '../../common/page-args';
import { Context } from '../../context';
import { ConcentrationFilter } from './concentration.inputs';
import { SupplierConcentrationValue } from './concentration.service';
import { SupplierConcentration, SupplierConcentrationConnection } from './concentration.type';

@Resolver(() => SupplierConcentration)
export class ConcentrationResolver {
  @Query(() => SupplierConcentrationConnection, {
    description:
      "Suppliers ranked by how many clients depend on them today, directly or through sub-processor chains (most clients first, then most contracts): who an incident there today would reach, by the exposure engine's rules. Every role; a client-role caller's figures count its own contracts only.",
  })
  concentration(
    @Args() page: PageArgsType,
    @Arg('filter', () => ConcentrationFilter, { nullable: true, description: 'Narrow the ranking.' })
    filter: ConcentrationFilter | null,
    @Ctx() ctx: Context,
  ): Promise<Connection<SupplierConcentrationValue>> {
    return ctx.services.concentration.rank(ctx.viewer, filter, page);
  }
}
