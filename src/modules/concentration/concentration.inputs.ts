import { Field, InputType } from 'type-graphql';
import { SupplierTier } from '../../common/enums';

@InputType({ description: 'Filters for the concentration ranking; all given filters must match.' })
export class ConcentrationFilter {
  @Field(() => SupplierTier, { nullable: true, description: 'Only suppliers of this tier.' })
  tier?: SupplierTier | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Only strategic (true) or only non-strategic (false) suppliers.',
  })
  strategic?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: only suppliers that reach at least one client; false: only those that reach none.',
  })
  reachesClients?: boolean | null;
}
