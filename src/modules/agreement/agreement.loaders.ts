import { DataSource } from 'typeorm';
import { Viewer } from '../../auth/viewer';
import { byIdLoader, groupByParent, groupLoader } from '../../common/loaders';
import { SqlParams, hydrate } from '../../common/paging';
import { contractVisibility } from '../contract/contract.loaders';
import { SupplierEntity } from '../supplier/supplier.entity';
import { AgreementEntity } from './agreement.entity';

export function createAgreementLoaders(db: DataSource, viewer: Viewer) {
  /** Agreements are visible exactly when their contract is. */
  const visible = (params: SqlParams) => contractVisibility(viewer, params, 'c');
  return {
    /** Archived agreements too (node() leaves them out), like contractById. */
    agreementById: byIdLoader<AgreementEntity>(async (ids) => {
      const params = new SqlParams();
      const where = [`a.id = ANY(${params.param(ids)}::uuid[])`, ...visible(params)];
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT a.* FROM data_processing_agreement a JOIN contract c ON c.id = a.contract_id WHERE ${where.join(' AND ')}`,
        params.values,
      );
      return rows.map((row) => hydrate(db, AgreementEntity, row));
    }),
    /**
     * A contract in the register lists its agreements in the register; a removed (archived) contract, reached
     * through an exposure record, lists the agreements it had when it was removed (archived with it, at its instant).
     */
    agreementsByContract: groupLoader<AgreementEntity>(async (contractIds) => {
      const params = new SqlParams();
      const where = [
        `a.contract_id = ANY(${params.param(contractIds)}::uuid[])`,
        'a.removed_at IS NOT DISTINCT FROM c.removed_at',
        ...visible(params),
      ];
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT a.contract_id AS __parent, a.* FROM data_processing_agreement a JOIN contract c ON c.id = a.contract_id WHERE ${where.join(' AND ')} ORDER BY a.reference, a.id`,
        params.values,
      );
      return groupByParent(rows, (row) => hydrate(db, AgreementEntity, row));
    }),
    subprocessorsByAgreement: groupLoader<SupplierEntity>(async (agreementIds) => {
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT l.agreement_id AS __parent, s.* FROM agreement_subprocessor l JOIN supplier s ON s.id = l.subprocessor_id
         WHERE l.agreement_id = ANY($1::uuid[]) ORDER BY s.name, s.id`,
        [agreementIds],
      );
      return groupByParent(rows, (row) => hydrate(db, SupplierEntity, row));
    }),
  };
}
