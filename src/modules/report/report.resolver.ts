import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Context } from '../../context';
import { ExposureEntity } from '../exposure/exposure.entity';
import { Exposure } from '../exposure/exposure.type';
import { IcoReportDraft } from './report.type';

@Resolver(() => Exposure)
export class ExposureReportResolver {
  @FieldResolver(() => IcoReportDraft, {
    description:
      "A draft of the ICO's personal data breach report for this exposure: each question of the ICO's form PREFILLED from the register (with its basis) or TO_COMPLETE (with a hint). Printable at /exposures/<id>/ico-report; docs/reports.md.",
  })
  async icoReportDraft(@Root() exposure: ExposureEntity, @Ctx() ctx: Context): Promise<IcoReportDraft> {
    return { answers: await ctx.services.report.icoReportDraft(ctx.loaders, exposure) };
  }
}
