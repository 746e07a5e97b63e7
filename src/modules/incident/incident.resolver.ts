import {
  Arg,
  Args,
  Ctx,
  Field,
  FieldResolver,
  Float,
  ID,
  Int,
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
import { UserError } from '../../common/user-error';
import { SupplierEntity } from '../supplier/supplier.entity';
import { Supplier } from '../supplier/supplier.type';
import { IncidentEntity } from './incident.entity';
import { IncidentFilter, RecordIncidentInput, UpdateIncidentInput } from './incident.inputs';
import { INCIDENT_CONSTRAINTS } from './incident.service';
import { Incident, IncidentConnection } from './incident.type';

@ObjectType({ simpleResolvers: true, description: 'The result of recording or updating an incident.' })
export class IncidentPayload {
  @Field(() => Incident, {
    nullable: true,
    description: 'The incident after the change; null when nothing was written.',
  })
  incident: IncidentEntity | null;

  @Field(() => Int, { description: 'How many exposures appeared, changed or resolved in this transaction.' })
  exposuresChanged: number;

  @Field(() => [UserError], { description: 'Why nothing was written; empty on success.' })
  userErrors: UserError[];
}

@Resolver(() => Incident)
export class IncidentResolver {
  @Query(() => IncidentConnection, {
    description:
      'Incidents, most recently detected first. A client-role caller sees only incidents it is exposed to.',
  })
  incidents(
    @Args() page: PageArgsType,
    @Arg('filter', () => IncidentFilter, { nullable: true, description: 'Narrow the list.' })
    filter: IncidentFilter | null,
    @Ctx() ctx: Context,
  ): Promise<Connection<IncidentEntity>> {
    return ctx.services.incident.list(ctx.viewer, filter, page);
  }

  @FieldResolver(() => ID, { description: 'Opaque global ID.' })
  id(@Root() incident: IncidentEntity): string {
    return encodeGlobalId('Incident', incident.id);
  }

  @FieldResolver(() => String, {
    description:
      "Where this incident's exposure map is drawn: the path of an HTML page (add `.svg` for the picture alone) with the incident's supplier, the chains to the exposed clients you may see, and each client coloured by its exposure level (a client-role caller: its own exposure only). It needs the same `Authorization: Bearer` header as the API: paste this incident's id into the *Open* bar at the top of GraphiQL, which fetches it with GraphiQL's headers, or `curl -H 'Authorization: Bearer …'`.",
  })
  exposureMapUrl(@Root() incident: IncidentEntity): string {
    return `/incidents/${encodeGlobalId('Incident', incident.id)}/exposure-map`;
  }

  @FieldResolver(() => Supplier, { description: 'The supplier where it happened.' })
  async supplier(@Root() incident: IncidentEntity, @Ctx() ctx: Context): Promise<SupplierEntity> {
    const supplier = await ctx.loaders.supplierById.load(incident.supplierId);
    if (!supplier) throw new Error(`Supplier ${incident.supplierId} of incident ${incident.id} not found`);
    return supplier;
  }

  @FieldResolver(() => Float, {
    nullable: true,
    description:
      "The share of the supplier's data the incident reached, more than 0 and at most 1 (Capita said about 4% of its servers: 0.04), when known. It scales each exposure's dataSubjectsAtRiskRange; the score and dataSubjectsAtRisk do not use it. null: not known, taken as all of it.",
  })
  shareOfDataAffected(@Root() incident: IncidentEntity): number | null {
    return incident.shareOfDataAffected === null || incident.shareOfDataAffected === undefined
      ? null
      : Number(incident.shareOfDataAffected);
  }

  @Mutation(() => IncidentPayload, {
    description:
      "Records an incident at a supplier and computes every client's exposure in the same transaction. Admin or analyst.",
  })
  async recordIncident(
    @Arg('input', () => RecordIncidentInput, { description: 'The incident as known now.' })
    input: RecordIncidentInput,
    @Ctx() ctx: Context,
  ): Promise<IncidentPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.incident.record(ctx.viewer, input),
      INCIDENT_CONSTRAINTS,
    );
    return {
      incident: result?.incident ?? null,
      exposuresChanged: result?.exposuresChanged ?? 0,
      userErrors,
    };
  }

  @Mutation(() => IncidentPayload, {
    description:
      'Records new facts about an incident and recomputes the exposures. Admin or analyst. A CLOSED incident is not recomputed: while it stays CLOSED only its title and kind may change; set another status to reopen it, which recomputes it (revisions say REOPENED); an incident whose supplier was removed stays CLOSED (CONFLICT on status).',
  })
  async updateIncident(
    @Arg('input', () => UpdateIncidentInput, { description: 'The incident and the facts that changed.' })
    input: UpdateIncidentInput,
    @Ctx() ctx: Context,
  ): Promise<IncidentPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.incident.update(ctx.viewer, input),
      INCIDENT_CONSTRAINTS,
    );
    return {
      incident: result?.incident ?? null,
      exposuresChanged: result?.exposuresChanged ?? 0,
      userErrors,
    };
  }
}
