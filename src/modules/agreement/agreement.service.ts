import { EntityManager } from 'typeorm';
import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer, requireRole } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { ConstraintMessages, lockLiveForUpdate } from '../../common/mutation';
import { UserError, UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid } from '../../common/validation';
import { ContractEntity } from '../contract/contract.entity';
import { lockLiveSuppliers } from '../supplier/supplier.service';
import { AgreementEntity } from './agreement.entity';
import {
  CreateDataProcessingAgreementInput,
  RemoveDataProcessingAgreementInput,
  UpdateDataProcessingAgreementInput,
} from './agreement.inputs';
import { ExposureEngine } from '../exposure/exposure.engine';

export const AGREEMENT_CONSTRAINTS: ConstraintMessages = {
  dpa_contract_reference_key: {
    field: ['input', 'reference'],
    message: 'This contract already has an agreement with this reference',
  },
  dpa_subject_count_not_negative: {
    field: ['input', 'dataSubjectCount'],
    message: 'dataSubjectCount must not be negative',
  },
};

export class AgreementService {
  constructor(
    private readonly connection: TransactionalConnection,
    /** Recomputes, inside each write's transaction, the exposures the write can move. */
    private readonly exposure: ExposureEngine,
  ) {}

  async create(viewer: Viewer, input: CreateDataProcessingAgreementInput): Promise<AgreementEntity> {
    requireRole(viewer, 'admin');
    await assertValid(input);
    return this.connection.transaction(async (manager) => {
      const contract = await lockLiveForUpdate(manager, ContractEntity, 'Contract', input.contractId, {
        field: ['input', 'contractId'],
        message: 'No contract has this ID',
      });
      checkRetention(contract, input.dataRetainedUntil ?? null);
      const subprocessorIds = await resolveSubprocessors(
        manager,
        input.subprocessorIds ?? [],
        contract.supplierId,
      );
      const agreement = await manager.save(
        manager.create(AgreementEntity, {
          contractId: contract.id,
          reference: input.reference.trim(),
          dataCategories: input.dataCategories,
          dataSubjectCount: input.dataSubjectCount,
          processingLocations: input.processingLocations,
          dataRetainedUntil: input.dataRetainedUntil ?? null,
        }),
      );
      await replaceSubprocessors(manager, agreement.id, subprocessorIds);
      await this.exposure.registerChanged(manager, { contractIds: [contract.id] });
      return agreement;
    });
  }

  async update(viewer: Viewer, input: UpdateDataProcessingAgreementInput): Promise<AgreementEntity> {
    requireRole(viewer, 'admin');
    await assertValid(input);
    return this.connection.transaction(async (manager) => {
      const { agreement, contract } = await lockAgreement(manager, input.id);
      if (input.reference != null) agreement.reference = input.reference.trim();
      if (input.dataCategories != null) agreement.dataCategories = input.dataCategories;
      if (input.dataSubjectCount != null) agreement.dataSubjectCount = input.dataSubjectCount;
      if (input.processingLocations != null) agreement.processingLocations = input.processingLocations;
      if (input.dataRetainedUntil !== undefined) agreement.dataRetainedUntil = input.dataRetainedUntil;
      checkRetention(contract, agreement.dataRetainedUntil);
      if (input.subprocessorIds != null) {
        await replaceSubprocessors(
          manager,
          agreement.id,
          await resolveSubprocessors(manager, input.subprocessorIds, contract.supplierId),
        );
      }
      const saved = await manager.save(agreement);
      await this.exposure.registerChanged(manager, { contractIds: [contract.id] });
      return saved;
    });
  }

  /** Rule 10: removal archives the agreement (removed_at, the row and its sub-processor links stay); the engine ignores it from now on. */
  async remove(viewer: Viewer, input: RemoveDataProcessingAgreementInput): Promise<string> {
    requireRole(viewer, 'admin');
    return this.connection.transaction(async (manager) => {
      const { agreement, contract } = await lockAgreement(manager, input.id);
      await manager.query(
        `UPDATE data_processing_agreement SET removed_at = now(), updated_at = now() WHERE id = $1`,
        [agreement.id],
      );
      await this.exposure.registerChanged(manager, { contractIds: [contract.id] });
      return agreement.id;
    });
  }
}

function checkRetention(contract: ContractEntity, dataRetainedUntil: string | null): void {
  if (dataRetainedUntil !== null && dataRetainedUntil < contract.startsOn) {
    throw new UserInputProblem([
      userError(
        ['input', 'dataRetainedUntil'],
        UserErrorCode.INVALID,
        `dataRetainedUntil (${dataRetainedUntil}) must not be before the contract starts (${contract.startsOn})`,
      ),
    ]);
  }
}

async function resolveSubprocessors(
  manager: EntityManager,
  globalIds: string[],
  contractSupplierId: string,
): Promise<string[]> {
  const problems: UserError[] = [];
  const ids = globalIds.map((globalId, index) => {
    const id = decodeIdOf('Supplier', globalId);
    if (!id)
      problems.push(
        userError(
          ['input', 'subprocessorIds', String(index)],
          UserErrorCode.NOT_FOUND,
          'Not the ID of a supplier',
        ),
      );
    else if (id === contractSupplierId)
      problems.push(
        userError(
          ['input', 'subprocessorIds', String(index)],
          UserErrorCode.INVALID,
          "The contract's own supplier cannot be its sub-processor",
        ),
      );
    return id;
  });
  if (problems.length) throw new UserInputProblem(problems);
  const known = await lockLiveSuppliers(manager, ids as string[]);
  ids.forEach((id, index) => {
    if (!known.has(id!))
      problems.push(
        userError(
          ['input', 'subprocessorIds', String(index)],
          UserErrorCode.NOT_FOUND,
          'No supplier has this ID',
        ),
      );
  });
  if (problems.length) throw new UserInputProblem(problems);
  return ids as string[];
}

async function replaceSubprocessors(
  manager: EntityManager,
  agreementId: string,
  subprocessorIds: string[],
): Promise<void> {
  await manager.query(`DELETE FROM agreement_subprocessor WHERE agreement_id = $1`, [agreementId]);
  if (subprocessorIds.length) {
    await manager.query(
      `INSERT INTO agreement_subprocessor (agreement_id, subprocessor_id) SELECT $1, unnest($2::uuid[])`,
      [agreementId, subprocessorIds],
    );
  }
}

async function lockAgreement(
  manager: EntityManager,
  globalId: string,
): Promise<{ agreement: AgreementEntity; contract: ContractEntity }> {
  // An agreement of an archived contract is archived with it, so a live agreement has a live contract.
  const agreement = await lockLiveForUpdate(manager, AgreementEntity, 'DataProcessingAgreement', globalId, {
    field: ['input', 'id'],
    message: 'No data processing agreement has this ID',
  });
  // Locked too: a concurrent contract update must not move startsOn past this agreement's retention unseen.
  const contract = await manager.findOneOrFail(ContractEntity, {
    where: { id: agreement.contractId },
    lock: { mode: 'pessimistic_write' },
  });
  return { agreement, contract };
}
