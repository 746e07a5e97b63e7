import { EntityManager } from 'typeorm';
import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer, requireRole } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { ConstraintMessages, lockLiveForUpdate } from '../../common/mutation';
import { Connection, PageArgs, childConnection } from '../../common/paging';
import { UserError, UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid, assertValidFilter } from '../../common/validation';
import { ClientEntity } from '../client/client.entity';
import { lockLiveSuppliers } from '../supplier/supplier.service';
import { ContractEntity } from './contract.entity';
import {
  ContractOrder,
  CreateContractInput,
  RemoveContractInput,
  UpdateContractInput,
} from './contract.inputs';
import { CONTRACT_OPTIONAL_COLUMNS, ContractLoaders, contractOrder } from './contract.loaders';
import { ExposureEngine } from '../exposure/exposure.engine';

export const CONTRACT_CONSTRAINTS: ConstraintMessages = {
  contract_client_reference_key: {
    field: ['input', 'reference'],
    message: 'This client already has a contract with this reference',
  },
  contract_dates_ordered: { field: ['input', 'endsOn'], message: 'endsOn must not be before startsOn' },
  contract_value_not_negative: {
    field: ['input', 'value', 'amount'],
    message: 'amount must not be negative',
  },
};

export class ContractService {
  constructor(
    private readonly connection: TransactionalConnection,
    /** Recomputes, inside each write's transaction, the exposures the write can move. */
    private readonly exposure: ExposureEngine,
  ) {}

  /** `selected`: the fields asked for on each contract, so the page reads only their columns (all when absent). */
  pageForSupplier(
    loaders: ContractLoaders,
    supplierId: string,
    page: PageArgs,
    selected?: ReadonlySet<string>,
    orderBy?: ContractOrder | null,
  ): Promise<Connection<ContractEntity>> {
    assertValidFilter(ContractOrder, orderBy, 'orderBy');
    const leaveOut = CONTRACT_OPTIONAL_COLUMNS.leaveOutFor(selected);
    // Plain JSON: the order travels in the loader key, so pages in the same order batch together.
    const order = orderBy ? { field: orderBy.field, direction: orderBy.direction ?? null } : null;
    return childConnection(
      loaders.contractPagesBySupplier.load({ parentId: supplierId, ...page, leaveOut, filter: order }),
      page,
      contractOrder(order).order,
      () => loaders.contractCountsBySupplier.load(supplierId),
    );
  }

  pageForClient(
    loaders: ContractLoaders,
    clientId: string,
    page: PageArgs,
    selected?: ReadonlySet<string>,
    orderBy?: ContractOrder | null,
  ): Promise<Connection<ContractEntity>> {
    assertValidFilter(ContractOrder, orderBy, 'orderBy');
    const leaveOut = CONTRACT_OPTIONAL_COLUMNS.leaveOutFor(selected);
    // Plain JSON: the order travels in the loader key, so pages in the same order batch together.
    const order = orderBy ? { field: orderBy.field, direction: orderBy.direction ?? null } : null;
    return childConnection(
      loaders.contractPagesByClient.load({ parentId: clientId, ...page, leaveOut, filter: order }),
      page,
      contractOrder(order).order,
      () => loaders.contractCountsByClient.load(clientId),
    );
  }

  async create(viewer: Viewer, input: CreateContractInput): Promise<ContractEntity> {
    requireRole(viewer, 'admin');
    await assertValid(input);
    checkDates(input.startsOn, input.endsOn ?? null, ['input', 'endsOn']);
    return this.connection.transaction(async (manager) => {
      // The contract table's write lock before the supplier is checked live (FOR KEY SHARE): a file import
      // in mode=replace archives suppliers with a plain UPDATE, which FOR KEY SHARE does not hold off, so
      // the check could pass, the insert wait for the import's table lock, and the contract land on a
      // supplier the import archived. With this lock first, the import waits for this insert to commit, or
      // this check waits for the import's commit and sees the supplier archived (concurrency test (u)).
      await manager.query(`LOCK TABLE contract IN ROW EXCLUSIVE MODE`);
      const clientId = decodeIdOf('Client', input.clientId);
      const supplierId = decodeIdOf('Supplier', input.supplierId);
      const problems: UserError[] = [];
      if (!clientId || !(await manager.existsBy(ClientEntity, { id: clientId })))
        problems.push(userError(['input', 'clientId'], UserErrorCode.NOT_FOUND, 'No client has this ID'));
      if (!supplierId || !(await lockLiveSuppliers(manager, [supplierId])).has(supplierId))
        problems.push(userError(['input', 'supplierId'], UserErrorCode.NOT_FOUND, 'No supplier has this ID'));
      if (problems.length) throw new UserInputProblem(problems);
      const contract = await manager.save(
        manager.create(ContractEntity, {
          clientId: clientId!,
          supplierId: supplierId!,
          reference: input.reference.trim(),
          title: input.title.trim(),
          valueAmount: input.value?.amount ?? null,
          valueCurrency: input.value?.currency ?? null,
          startsOn: input.startsOn,
          endsOn: input.endsOn ?? null,
          criticality: input.criticality,
        }),
      );
      await this.exposure.registerChanged(manager, { contractIds: [contract.id] });
      return contract;
    });
  }

  async update(viewer: Viewer, input: UpdateContractInput): Promise<ContractEntity> {
    requireRole(viewer, 'admin');
    await assertValid(input);
    return this.connection.transaction(async (manager) => {
      const contract = await lockContract(manager, input.id);
      if (input.reference != null) contract.reference = input.reference.trim();
      if (input.title != null) contract.title = input.title.trim();
      if (input.value !== undefined) {
        contract.valueAmount = input.value?.amount ?? null;
        contract.valueCurrency = input.value?.currency ?? null;
      }
      if (input.startsOn != null) contract.startsOn = input.startsOn;
      if (input.endsOn !== undefined) contract.endsOn = input.endsOn;
      if (input.criticality != null) contract.criticality = input.criticality;
      checkDates(
        contract.startsOn,
        contract.endsOn,
        input.endsOn !== undefined ? ['input', 'endsOn'] : ['input', 'startsOn'],
      );
      if (input.startsOn != null) await checkRetentionAfterStart(manager, contract);
      const saved = await manager.save(contract);
      await this.exposure.registerChanged(manager, { contractIds: [contract.id] });
      return saved;
    });
  }

  /**
   * Rule 10: removal archives the contract and its agreements in the register (removed_at, the same instant
   * for all, so the contract still lists the agreements it had), and the exposures that ran through it keep
   * showing it. Its reference is free for a new contract.
   */
  async remove(viewer: Viewer, input: RemoveContractInput): Promise<string> {
    requireRole(viewer, 'admin');
    return this.connection.transaction(async (manager) => {
      const contract = await lockContract(manager, input.id);
      // now() is the transaction's instant: the same in both statements.
      await manager.query(`UPDATE contract SET removed_at = now(), updated_at = now() WHERE id = $1`, [
        contract.id,
      ]);
      await manager.query(
        `UPDATE data_processing_agreement SET removed_at = now(), updated_at = now() WHERE contract_id = $1 AND removed_at IS NULL`,
        [contract.id],
      );
      // The engine no longer sees the contract and resolves the exposures that ran through it.
      await this.exposure.registerChanged(manager, {
        clientIds: [contract.clientId],
        supplierIds: [contract.supplierId],
      });
      return contract.id;
    });
  }
}

function checkDates(startsOn: string, endsOn: string | null, field: string[]): void {
  if (endsOn !== null && endsOn < startsOn) {
    throw new UserInputProblem([
      userError(field, UserErrorCode.INVALID, `endsOn (${endsOn}) must not be before startsOn (${startsOn})`),
    ]);
  }
}

/** An agreement may not keep data "until" a day before its contract starts (the rule createDataProcessingAgreement enforces), so a later start must not make it so. */
async function checkRetentionAfterStart(manager: EntityManager, contract: ContractEntity): Promise<void> {
  const [{ earliest }]: { earliest: string | null }[] = await manager.query(
    `SELECT min(data_retained_until)::text AS earliest FROM data_processing_agreement WHERE contract_id = $1 AND removed_at IS NULL`,
    [contract.id],
  );
  if (earliest !== null && earliest < contract.startsOn) {
    throw new UserInputProblem([
      userError(
        ['input', 'startsOn'],
        UserErrorCode.INVALID,
        `startsOn (${contract.startsOn}) must not be after an agreement's dataRetainedUntil (${earliest}); change that agreement first`,
      ),
    ]);
  }
}

function lockContract(manager: EntityManager, globalId: string): Promise<ContractEntity> {
  return lockLiveForUpdate(manager, ContractEntity, 'Contract', globalId, {
    field: ['input', 'id'],
    message: 'No contract has this ID',
  });
}
