import { DataSource } from 'typeorm';
import { groupByParent, groupLoader } from '../../common/loaders';
import { hydrate } from '../../common/paging';
import { NotificationDecisionEntity } from '../exposure/exposure.entity';
import { ObligationTriggerEntity } from './obligation.entity';

/** Exposures reach these loaders only once the viewer may see them (the exposure's own loaders scope them). */
export function createObligationLoaders(db: DataSource) {
  return {
    obligationTriggers: groupLoader<ObligationTriggerEntity>(async (exposureIds) => {
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT t.exposure_id AS __parent, t.* FROM obligation_trigger t WHERE t.exposure_id = ANY($1::uuid[]) ORDER BY t.exposure_id, t.id`,
        [exposureIds],
      );
      return groupByParent(rows, (row) => hydrate(db, ObligationTriggerEntity, row));
    }),
    /** Every decision on the exposures, oldest first (rule 9: all kept, with who and when). */
    notificationDecisions: groupLoader<NotificationDecisionEntity>(async (exposureIds) => {
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT d.exposure_id AS __parent, d.* FROM notification_decision d WHERE d.exposure_id = ANY($1::uuid[]) ORDER BY d.exposure_id, d.decided_at, d.id`,
        [exposureIds],
      );
      return groupByParent(rows, (row) => hydrate(db, NotificationDecisionEntity, row));
    }),
  };
}

export type ObligationLoaders = ReturnType<typeof createObligationLoaders>;
