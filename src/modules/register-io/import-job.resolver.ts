import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { Context } from '../../context';
import { ImportJob } from './import-job.type';

@Resolver(() => ImportJob)
export class ImportJobResolver {
  @Query(() => ImportJob, {
    nullable: true,
    description:
      'An import of a large file (POST /imports answered 202 { jobId }): its status, rows done and, once finished, its report. Admin only; an unknown id answers null.',
  })
  importJob(
    @Arg('id', () => ID, { description: 'The jobId POST /imports answered.' }) id: string,
    @Ctx() ctx: Context,
  ): Promise<ImportJob | null> {
    return ctx.services.registerIo.job(ctx.viewer, id);
  }
}
