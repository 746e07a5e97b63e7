import { GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Args,
  ClassType,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Info,
  Int,
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
import { DateTimeScalar } from '../../common/scalars';
import { UserError } from '../../common/user-error';
import { ClientEntity } from '../client/client.entity';
import { Client } from '../client/client.type';
import { ContractEntity } from '../contract/contract.entity';
import { Contract } from '../contract/contract.type';
import { IncidentEntity } from '../incident/incident.entity';
import { Incident } from '../incident/incident.type';
import { SupplierEntity } from '../supplier/supplier.entity';
import { Supplier } from '../supplier/supplier.type';
import { ExposureAlert } from '../alert/alert.type';
import {
  ExposureChangeReason,
  ExposureEntity,
  ExposureFactorValue,
  ExposureRevisionEntity,
} from './exposure.entity';
import { ExposureFilter, ExposureOrder, RecordNotificationDecisionInput } from './exposure.inputs';
import type { ExposureSummaryValue } from './exposure.loaders';
import { SimulatedExposureValue, Simulation } from './exposure.simulation';
import { SimulateIncidentInput } from '../incident/incident.inputs';
import {
  Exposure,
  ExposureConnection,
  ExposureFactor,
  ExposureRevision,
  ExposureSummary,
  Notification,
  PeopleRange,
  SimulatedExposure,
  SimulatedExposureConnection,
} from './exposure.type';

const MAX_GRAPHQL_INT = 2_147_483_647;

function peopleRange(row: { dataSubjectsAtRiskLow: string; dataSubjectsAtRiskHigh: string }): PeopleRange {
  return { low: Number(row.dataSubjectsAtRiskLow), high: Number(row.dataSubjectsAtRiskHigh) };
}

@ObjectType({ simpleResolvers: true, description: 'The result of recording a notification decision.' })
export class ExposurePayload {
  @Field(() => Exposure, {
    nullable: true,
    description: 'The exposure with its new decision; null when nothing was written.',
  })
  exposure: ExposureEntity | null;

  @Field(() => [UserError], { description: 'Why nothing was written; empty on success.' })
  userErrors: UserError[];
}

@ObjectType({
  simpleResolvers: true,
  description: 'What the register said about an exposure at a given moment.',
})
export class ExposureAsOf extends ExposureRevision {
  @Field(() => Notification, { description: 'The notification decision in force at that moment.' })
  notification: Notification;
}

async function loadAll<T>(
  loader: { loadMany(keys: readonly string[]): Promise<(T | null | Error)[]> },
  ids: string[],
): Promise<T[]> {
  const rows = await loader.loadMany(ids);
  return rows.filter((row): row is T => row !== null && !(row instanceof Error));
}

@Resolver(() => Exposure)
export class ExposureResolver {
  @Query(() => ExposureConnection, {
    description:
      'Exposures, highest score first unless orderBy says otherwise. A client-role caller sees only its own. Resolved exposures are hidden unless filter.includeResolved.',
  })
  exposures(
    @Args() page: PageArgsType,
    @Arg('filter', () => ExposureFilter, { nullable: true, description: 'Narrow the list.' })
    filter: ExposureFilter | null,
    @Arg('orderBy', () => ExposureOrder, {
      nullable: true,
      description: 'The order; default SCORE DESC (highest score first). Cursors belong to their order.',
    })
    orderBy: ExposureOrder | null,
    @Ctx() ctx: Context,
  ): Promise<Connection<ExposureEntity>> {
    return ctx.services.exposure.list(ctx.viewer, filter, page, orderBy);
  }

  @FieldResolver(() => ID, { description: 'Opaque global ID.' })
  id(@Root() exposure: ExposureEntity): string {
    return encodeGlobalId('Exposure', exposure.id);
  }

  @FieldResolver(() => Client, { description: 'The exposed client.' })
  async client(@Root() exposure: ExposureEntity, @Ctx() ctx: Context): Promise<ClientEntity> {
    const client = await ctx.loaders.clientById.load(exposure.clientId);
    if (!client) throw new Error(`Client of exposure ${exposure.id} not found`);
    return client;
  }

  @FieldResolver(() => Incident, { description: 'The incident the client is exposed to.' })
  async incident(@Root() exposure: ExposureEntity, @Ctx() ctx: Context): Promise<IncidentEntity> {
    const incident = await ctx.loaders.incidentById.load(exposure.incidentId);
    if (!incident) throw new Error(`Incident of exposure ${exposure.id} not found`);
    return incident;
  }

  @FieldResolver(() => [ExposureFactor], {
    description: 'Why the score is what it is; the contributions sum to the score before rounding.',
  })
  factors(
    @Root() exposure: ExposureEntity,
    @Ctx() ctx: Context,
  ): ExposureFactorValue[] | Promise<ExposureFactorValue[]> {
    return exposure.factors ?? ctx.loaders.exposureFactors.load(exposure.id);
  }

  @FieldResolver(() => [Contract], {
    description:
      "The client's contracts through which it is exposed (as last computed: a contract removed since still appears, with removedAt).",
  })
  contracts(@Root() exposure: ExposureEntity, @Ctx() ctx: Context): Promise<ContractEntity[]> {
    return loadAll(ctx.loaders.contractById, exposure.contractIds);
  }

  @FieldResolver(() => Int, {
    description:
      'People whose data is at risk: the sum of the estimates of the agreements with at least one category at risk (capped at 2,147,483,647). The score uses this figure; it counts a person once per agreement, so dataSubjectsAtRiskRange says how far off it may be.',
  })
  dataSubjectsAtRisk(@Root() exposure: ExposureEntity): number {
    return Math.min(Number(exposure.dataSubjectsAtRisk), MAX_GRAPHQL_INT);
  }

  @FieldResolver(() => PeopleRange, {
    description:
      "People whose data is at risk as a range (see PeopleRange): the largest agreement at risk to the sum, scaled by the incident's shareOfDataAffected.",
  })
  dataSubjectsAtRiskRange(@Root() exposure: ExposureEntity): PeopleRange {
    return peopleRange(exposure);
  }

  @FieldResolver(() => [Supplier], {
    description:
      "The shortest supply chain from the client's own supplier to the incident's supplier, as last computed (a supplier removed since still appears, with removedAt).",
  })
  path(@Root() exposure: ExposureEntity, @Ctx() ctx: Context): Promise<SupplierEntity[]> {
    return loadAll(ctx.loaders.supplierById, exposure.path);
  }

  @FieldResolver(() => Notification, { description: "The client's decision on reporting to the regulator." })
  notification(@Root() exposure: ExposureEntity): Notification {
    return {
      regime: 'UK_GDPR',
      milestone: 'NOTIFICATION',
      facts: null,
      effects: null,
      remedialAction: null,
      status: exposure.notificationStatus,
      decidedAt: exposure.notificationDecidedAt,
      decidedBy: exposure.notificationDecidedBy,
      reportedAt: exposure.notificationReportedAt,
      reference: exposure.notificationReference,
      justification: exposure.notificationJustification,
    };
  }

  @FieldResolver(() => [ExposureRevision], {
    description: 'Every revision of this exposure, oldest first: what the register believed and when.',
  })
  history(@Root() exposure: ExposureEntity, @Ctx() ctx: Context): Promise<ExposureRevisionEntity[]> {
    return ctx.services.exposure.history(ctx.loaders, exposure.id);
  }

  @FieldResolver(() => ExposureAsOf, {
    nullable: true,
    description:
      'What the register said about this exposure at a given moment; null before it was first computed.',
  })
  async asOf(
    @Root() exposure: ExposureEntity,
    @Arg('at', () => DateTimeScalar, { description: 'The moment to look at.' }) at: Date,
    @Ctx() ctx: Context,
  ): Promise<ExposureAsOf | null> {
    const revision = await ctx.services.exposure.asOf(ctx.loaders, exposure.id, at);
    if (!revision) return null;
    const decision = revision.decision as {
      status?: Notification['status'];
      decided_at?: string;
      decided_by_subject?: string;
      reported_at?: string | null;
      reference?: string | null;
      justification?: string | null;
      facts?: string | null;
      effects?: string | null;
      remedial_action?: string | null;
    } | null;
    return Object.assign(revision, {
      notification: {
        regime: 'UK_GDPR',
        milestone: 'NOTIFICATION',
        facts: decision?.facts ?? null,
        effects: decision?.effects ?? null,
        remedialAction: decision?.remedial_action ?? null,
        // A NOT_REQUIRED decision under review after a widening: ASSESSING, the decision's record kept, as live.
        status: revision.reviewNeeded
          ? ('ASSESSING' as Notification['status'])
          : (decision?.status ?? ('ASSESSING' as Notification['status'])),
        decidedAt: decision?.decided_at ? new Date(decision.decided_at) : null,
        decidedBy: decision?.decided_by_subject ?? null,
        reportedAt: decision?.reported_at ? new Date(decision.reported_at) : null,
        reference: decision?.reference ?? null,
        justification: decision?.justification ?? null,
      },
    }) as unknown as ExposureAsOf;
  }

  @Mutation(() => ExposurePayload, {
    description:
      "Records the client's decision on reporting to the regulator. Only an admin or the exposed client itself; every decision is kept with who and when.",
  })
  async recordNotificationDecision(
    @Arg('input', () => RecordNotificationDecisionInput, { description: 'The exposure and the decision.' })
    input: RecordNotificationDecisionInput,
    @Ctx() ctx: Context,
  ): Promise<ExposurePayload> {
    const { result, userErrors } = await asPayload(() =>
      ctx.services.exposure.recordDecision(ctx.viewer, input),
    );
    return { exposure: result, userErrors };
  }
}

/**
 * The parts of a revision that are references or need capping, for ExposureRevision and ExposureAsOf
 * alike (type-graphql needs one resolver class per object type; they share this base).
 */
function revisionFields(type: () => ClassType) {
  @Resolver(type)
  abstract class RevisionFields {
    @FieldResolver(() => Int, {
      description: 'People whose data was at risk at that time (capped at 2,147,483,647).',
    })
    dataSubjectsAtRisk(@Root() revision: ExposureRevisionEntity): number {
      return Math.min(Number(revision.dataSubjectsAtRisk), MAX_GRAPHQL_INT);
    }

    @FieldResolver(() => PeopleRange, {
      description: 'People whose data was at risk at that time, as a range (see PeopleRange).',
    })
    dataSubjectsAtRiskRange(@Root() revision: ExposureRevisionEntity): PeopleRange {
      return peopleRange(revision);
    }

    @FieldResolver(() => [Supplier], {
      description: 'The supply chain at that time, whatever was removed since.',
    })
    path(@Root() revision: ExposureRevisionEntity, @Ctx() ctx: Context): Promise<SupplierEntity[]> {
      return loadAll(ctx.loaders.supplierById, revision.path);
    }

    @FieldResolver(() => [Contract], {
      description:
        'The contracts it ran through at that time (a contract removed since still appears, with removedAt).',
    })
    contracts(@Root() revision: ExposureRevisionEntity, @Ctx() ctx: Context): Promise<ContractEntity[]> {
      return loadAll(ctx.loaders.contractById, revision.contractIds);
    }
  }
  return RevisionFields;
}

@Resolver(() => ExposureRevision)
export class ExposureRevisionResolver extends revisionFields(() => ExposureRevision) {}

@Resolver(() => ExposureAsOf)
export class ExposureAsOfResolver extends revisionFields(() => ExposureAsOf) {}

/** Rule 11: an alert says why its revision was written (REOPENED, REGISTER_CHANGED, ...). */
@Resolver(() => ExposureAlert)
export class ExposureAlertReasonResolver {
  @FieldResolver(() => ExposureChangeReason, {
    nullable: true,
    description:
      'Why the register wrote the revision this alert announces (null only for revisions recorded before reasons were kept).',
  })
  reason(@Root() alert: ExposureAlert, @Ctx() ctx: Context): Promise<ExposureChangeReason | null> {
    return ctx.loaders.revisionReason.load({
      exposureId: alert.exposure.id,
      revision: alert.exposure.revision,
    });
  }
}

@Resolver(() => Client)
export class ClientExposureResolver {
  @FieldResolver(() => ExposureConnection, {
    description: "The client's exposures, highest score first unless orderBy says otherwise.",
  })
  async exposures(
    @Root() client: ClientEntity,
    @Args() page: PageArgsType,
    @Arg('filter', () => ExposureFilter, { nullable: true, description: 'Narrow the list.' })
    filter: ExposureFilter | null,
    @Arg('orderBy', () => ExposureOrder, {
      nullable: true,
      description: 'The order; default SCORE DESC (highest score first). Cursors belong to their order.',
    })
    orderBy: ExposureOrder | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<ExposureEntity>> {
    const planned = ctx.loaders.nestedRead.connection<ExposureEntity>(info, client.id);
    if (planned) return planned;
    return ctx.services.exposure.pageForClient(
      ctx.loaders,
      client.id,
      page,
      filter,
      selectedNodeFields(info),
      orderBy,
    );
  }
}

@Resolver(() => Incident)
export class IncidentExposureResolver {
  @FieldResolver(() => ExposureConnection, {
    description:
      "Clients' exposures to this incident, highest score first unless orderBy says otherwise (a client sees only its own).",
  })
  async exposures(
    @Root() incident: IncidentEntity,
    @Args() page: PageArgsType,
    @Arg('filter', () => ExposureFilter, { nullable: true, description: 'Narrow the list.' })
    filter: ExposureFilter | null,
    @Arg('orderBy', () => ExposureOrder, {
      nullable: true,
      description: 'The order; default SCORE DESC (highest score first). Cursors belong to their order.',
    })
    orderBy: ExposureOrder | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<ExposureEntity>> {
    const planned = ctx.loaders.nestedRead.connection<ExposureEntity>(info, incident.id);
    if (planned) return planned;
    return ctx.services.exposure.pageForIncident(
      ctx.loaders,
      incident.id,
      page,
      filter,
      selectedNodeFields(info),
      orderBy,
    );
  }

  @FieldResolver(() => ExposureSummary, {
    description:
      'Clients exposed, people at risk, special category data, contract value and the nearest deadline, over the exposures you may see.',
  })
  exposureSummary(@Root() incident: IncidentEntity, @Ctx() ctx: Context): Promise<ExposureSummaryValue> {
    return ctx.services.exposure.summary(ctx.loaders, incident.id);
  }
}

@ObjectType({
  simpleResolvers: true,
  description:
    'What recording an incident would do (simulateIncident): the exposures it would create, computed by the exposure engine itself; nothing is written.',
})
export class SimulationPayload {
  /** The computed answer; null when the input was refused. */
  simulation: Simulation | null;

  @Field(() => Int, {
    nullable: true,
    description: 'How many clients would be exposed; null when the input was refused (see userErrors).',
  })
  clientsExposed: number | null;

  @Field(() => [UserError], { description: 'Why nothing could be simulated; empty on success.' })
  userErrors: UserError[];
}

@Resolver(() => SimulationPayload)
export class SimulationResolver {
  @Mutation(() => SimulationPayload, {
    description:
      "What recording this incident would do, writing nothing: every client's exposure as recordIncident would compute it (the engine's own computation), with no incident, exposure, revision, alert or audit row, and no lock held on the register. A read in effect: it waits for a query slot and counts against the rate limit like a query. Admin or analyst.",
  })
  async simulateIncident(
    @Arg('input', () => SimulateIncidentInput, {
      description: 'The incident to simulate: the same fields as recordIncident takes.',
    })
    input: SimulateIncidentInput,
    @Ctx() ctx: Context,
  ): Promise<SimulationPayload> {
    const { result, userErrors } = await asPayload(() => ctx.services.incident.simulate(ctx.viewer, input));
    return { simulation: result, clientsExposed: result ? result.exposures.length : null, userErrors };
  }

  @FieldResolver(() => SimulatedExposureConnection, {
    nullable: true,
    description:
      'The exposures it would create, highest score first; null when the input was refused. Cursors belong to this simulation: a cursor from a simulation with other facts is refused.',
  })
  exposures(
    @Root() payload: SimulationPayload,
    @Args() page: PageArgsType,
  ): Connection<SimulatedExposureValue> | null {
    return payload.simulation ? payload.simulation.page(page) : null;
  }
}

@Resolver(() => SimulatedExposure)
export class SimulatedExposureResolver {
  @FieldResolver(() => Client, { description: 'The client that would be exposed.' })
  async client(@Root() exposure: SimulatedExposureValue, @Ctx() ctx: Context): Promise<ClientEntity> {
    const client = await ctx.loaders.clientById.load(exposure.clientId);
    if (!client) throw new Error(`Client ${exposure.clientId} of a simulated exposure not found`);
    return client;
  }

  @FieldResolver(() => [Contract], {
    description: "The client's contracts through which it would be exposed.",
  })
  contracts(@Root() exposure: SimulatedExposureValue, @Ctx() ctx: Context): Promise<ContractEntity[]> {
    return loadAll(ctx.loaders.contractById, exposure.contractIds);
  }

  @FieldResolver(() => [Supplier], {
    description: "The shortest supply chain from the client's own supplier to the incident's supplier.",
  })
  path(@Root() exposure: SimulatedExposureValue, @Ctx() ctx: Context): Promise<SupplierEntity[]> {
    return loadAll(ctx.loaders.supplierById, exposure.path);
  }

  @FieldResolver(() => Int, {
    description:
      'People whose data would be at risk: the sum over the agreements with a category at risk (capped at 2,147,483,647), as Exposure.dataSubjectsAtRisk.',
  })
  dataSubjectsAtRisk(@Root() exposure: SimulatedExposureValue): number {
    return Math.min(Number(exposure.dataSubjectsAtRisk), MAX_GRAPHQL_INT);
  }

  @FieldResolver(() => PeopleRange, {
    description: 'People whose data would be at risk as a range (see PeopleRange).',
  })
  dataSubjectsAtRiskRange(@Root() exposure: SimulatedExposureValue): PeopleRange {
    return peopleRange(exposure);
  }
}
