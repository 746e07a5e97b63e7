import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { Context } from '../../context';
import { Connection } from '../../common/connection';
import { encodeGlobalId } from '../../common/global-id';
import { PageArgsType } from '../../common/page-args';
import { AuditEventEntity } from './audit.entity';
import { auditRecordGlobalId } from './audit.service';
import { AuditEvent, AuditEventConnection, AuditEventFilter } from './audit.type';

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, {
    description: 'The audit trail of every change to the register, newest first. Admin only.',
  })
  auditEvents(
    @Args() page: PageArgsType,
    @Arg('filter', () => AuditEventFilter, {
      nullable: true,
      description: 'Narrow the trail by actor, record, operation or time.',
    })
    filter: AuditEventFilter | null,
    @Ctx() ctx: Context,
  ): Promise<Connection<AuditEventEntity>> {
    return ctx.services.audit.list(ctx.viewer, filter, page);
  }

  @FieldResolver(() => ID, {
    nullable: true,
    description: 'Global ID of the client, when a client-role user made the change.',
  })
  actorClientId(@Root() event: AuditEventEntity): string | null {
    return event.actorClientId ? encodeGlobalId('Client', event.actorClientId) : null;
  }

  @FieldResolver(() => ID, { nullable: true, description: 'Global ID of the record, where it has one.' })
  recordGlobalId(@Root() event: AuditEventEntity): string | null {
    return auditRecordGlobalId(event);
  }
}
