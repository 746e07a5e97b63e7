import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { Context } from '../../context';
import { asPayload } from '../../common/mutation';
import { DateTimeScalar } from '../../common/scalars';
import { ClientEntity } from '../client/client.entity';
import { Client } from '../client/client.type';
import { ExposureEntity, NotificationDecisionEntity } from '../exposure/exposure.entity';
import { ExposurePayload } from '../exposure/exposure.resolver';
import { Exposure, Notification, SimulatedExposure } from '../exposure/exposure.type';
import { SimulatedExposureValue } from '../exposure/exposure.simulation';
import { RecordClientNoticeInput, RecordObligationTriggerInput } from './obligation.inputs';
import { regimesOf } from './obligation.clock';
import { Obligation } from './obligation.type';
import { ObligationValue, RegulatoryRegime, nextDueAt } from './regimes';

@Resolver(() => SimulatedExposure)
export class SimulatedExposureObligationResolver {
  @FieldResolver(() => [Obligation], {
    description:
      "The clocks this exposure would start under its client's regimes, had the incident been recorded at the moment of the request: no trigger recorded and no decision taken yet (docs/regulatory-clocks.md).",
  })
  obligations(@Root() exposure: SimulatedExposureValue, @Ctx() ctx: Context): Promise<ObligationValue[]> {
    return ctx.services.obligation.simulatedObligations(ctx.loaders, exposure);
  }
}

@Resolver(() => Exposure)
export class ExposureObligationResolver {
  @FieldResolver(() => [Obligation], {
    description:
      "Every clock this exposure starts under its client's regimes (docs/regulatory-clocks.md), with status at the moment of the request.",
  })
  obligations(@Root() exposure: ExposureEntity, @Ctx() ctx: Context): Promise<ObligationValue[]> {
    return ctx.services.obligation.obligations(ctx.loaders, exposure);
  }

  @FieldResolver(() => DateTimeScalar, {
    nullable: true,
    description:
      'The earliest dueAt among the obligations still open (OPEN, DUE_SOON, OVERDUE), over every regime; null: none. Kept on the exposure whenever an input changes, so lists filter (overdue, dueBefore) and order (NEXT_DUE) by it.',
  })
  async nextDueAt(@Root() exposure: ExposureEntity, @Ctx() ctx: Context): Promise<Date | null> {
    // The stored value (obligation.clock.ts); an exposure read without it (an alert's revision) computes it.
    if (exposure.nextDueAt !== undefined) return exposure.nextDueAt;
    return nextDueAt(await ctx.services.obligation.obligations(ctx.loaders, exposure));
  }

  @FieldResolver(() => [Notification], {
    description:
      'Every decision recorded on this exposure, oldest first, for every obligation, with who and when.',
  })
  async decisions(@Root() exposure: ExposureEntity, @Ctx() ctx: Context): Promise<Notification[]> {
    const rows: NotificationDecisionEntity[] = await ctx.loaders.notificationDecisions.load(exposure.id);
    return rows.map((d) => ({
      regime: d.regime,
      milestone: d.milestone,
      status: d.status,
      decidedAt: d.decidedAt,
      decidedBy: d.decidedBySubject,
      reportedAt: d.reportedAt,
      reference: d.reference,
      justification: d.justification,
      facts: d.facts,
      effects: d.effects,
      remedialAction: d.remedialAction,
    }));
  }

  @Mutation(() => ExposurePayload, {
    description:
      'Records when a client was told of an incident (admin, analyst, or the client itself acknowledging) and recomputes its awareness. With a reason it is a correction, which may move awareness later (history keeps the earlier value; an alert says so). exposure is null when the client is not exposed to the incident.',
  })
  async recordClientNotice(
    @Arg('input', () => RecordClientNoticeInput, {
      description: 'The incident, the client and when it was told.',
    })
    input: RecordClientNoticeInput,
    @Ctx() ctx: Context,
  ): Promise<ExposurePayload> {
    const { result, userErrors } = await asPayload(() =>
      ctx.services.obligation.recordClientNotice(ctx.viewer, input),
    );
    return { exposure: result ?? null, userErrors };
  }

  @Mutation(() => ExposurePayload, {
    description:
      'Records a trigger the register cannot know (classified as major, significant, high risk) for one regime of an exposure. Admin or the exposed client itself; kept, append-only; the earliest counts.',
  })
  async recordObligationTrigger(
    @Arg('input', () => RecordObligationTriggerInput, {
      description: 'The exposure, the regime, when and why.',
    })
    input: RecordObligationTriggerInput,
    @Ctx() ctx: Context,
  ): Promise<ExposurePayload> {
    const { result, userErrors } = await asPayload(() =>
      ctx.services.obligation.recordObligationTrigger(ctx.viewer, input),
    );
    return { exposure: result, userErrors };
  }
}

@Resolver(() => Client)
export class ClientRegimesResolver {
  @FieldResolver(() => [RegulatoryRegime], {
    description:
      'The regimes the client is under: as set, or by default from sector and country (UK: UK_GDPR; EU/EEA: EU_GDPR, and DORA for FINANCIAL_SERVICES; docs/regulatory-clocks.md).',
  })
  regimes(@Root() client: ClientEntity): RegulatoryRegime[] {
    return regimesOf(client);
  }
}
