import { Arg, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { Context } from '../../context';
import { encodeGlobalId } from '../../common/global-id';
import { asPayload } from '../../common/mutation';
import { RemovalPayload } from '../../common/payloads';
import { UserError } from '../../common/user-error';
import { AgreementEntity } from '../agreement/agreement.entity';
import { DataProcessingAgreement } from '../agreement/agreement.type';
import { ClientEntity } from '../client/client.entity';
import { Client } from '../client/client.type';
import { SupplierEntity } from '../supplier/supplier.entity';
import { Supplier } from '../supplier/supplier.type';
import { ContractEntity } from './contract.entity';
import { CreateContractInput, RemoveContractInput, UpdateContractInput } from './contract.inputs';
import { CONTRACT_CONSTRAINTS } from './contract.service';
import { Contract, Money } from './contract.type';

@ObjectType({ simpleResolvers: true, description: 'The result of a mutation on a contract.' })
export class ContractPayload {
  @Field(() => Contract, {
    nullable: true,
    description: 'The contract after the change; null when nothing was written.',
  })
  contract: ContractEntity | null;

  @Field(() => [UserError], { description: 'Why nothing was written; empty on success.' })
  userErrors: UserError[];
}

@Resolver(() => Contract)
export class ContractResolver {
  @FieldResolver(() => ID, { description: 'Opaque global ID.' })
  id(@Root() contract: ContractEntity): string {
    return encodeGlobalId('Contract', contract.id);
  }

  @FieldResolver(() => Client, { description: 'The buying client.' })
  async client(@Root() contract: ContractEntity, @Ctx() ctx: Context): Promise<ClientEntity> {
    // A viewer who can see the contract can see its client, so a miss here is a fault, not a permission answer.
    const client = await ctx.loaders.clientById.load(contract.clientId);
    if (!client) throw new Error(`Client ${contract.clientId} of contract ${contract.id} not found`);
    return client;
  }

  @FieldResolver(() => Supplier, { description: 'The supplier providing the service.' })
  async supplier(@Root() contract: ContractEntity, @Ctx() ctx: Context): Promise<SupplierEntity> {
    const supplier = await ctx.loaders.supplierById.load(contract.supplierId);
    if (!supplier) throw new Error(`Supplier ${contract.supplierId} of contract ${contract.id} not found`);
    return supplier;
  }

  @FieldResolver(() => Money, {
    nullable: true,
    description: 'Total contract value; null when not recorded.',
  })
  value(@Root() contract: ContractEntity): Money | null {
    return contract.valueAmount === null || contract.valueCurrency === null
      ? null
      : { amount: contract.valueAmount, currency: contract.valueCurrency };
  }

  @FieldResolver(() => [DataProcessingAgreement], {
    description:
      'The data processing agreements under this contract; empty when the supplier holds no personal data for it.',
  })
  dataProcessingAgreements(
    @Root() contract: ContractEntity,
    @Ctx() ctx: Context,
  ): Promise<AgreementEntity[]> {
    return ctx.loaders.agreementsByContract.load(contract.id);
  }

  @Mutation(() => ContractPayload, {
    description: 'Records a contract. Admin only. Recomputes exposures of open incidents.',
  })
  async createContract(
    @Arg('input', () => CreateContractInput, { description: 'The new contract.' }) input: CreateContractInput,
    @Ctx() ctx: Context,
  ): Promise<ContractPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.contract.create(ctx.viewer, input),
      CONTRACT_CONSTRAINTS,
    );
    return { contract: result, userErrors };
  }

  @Mutation(() => ContractPayload, {
    description: 'Changes a contract. Admin only. Recomputes exposures of open incidents.',
  })
  async updateContract(
    @Arg('input', () => UpdateContractInput, { description: 'The contract to change and its new terms.' })
    input: UpdateContractInput,
    @Ctx() ctx: Context,
  ): Promise<ContractPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.contract.update(ctx.viewer, input),
      CONTRACT_CONSTRAINTS,
    );
    return { contract: result, userErrors };
  }

  @Mutation(() => RemovalPayload, {
    description:
      'Removes a contract and its agreements. Admin only. They are archived, not deleted (removedAt): exposures that ran through the contract are resolved and still show it.',
  })
  async removeContract(
    @Arg('input', () => RemoveContractInput, { description: 'The contract to remove.' })
    input: RemoveContractInput,
    @Ctx() ctx: Context,
  ): Promise<RemovalPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.contract.remove(ctx.viewer, input),
      CONTRACT_CONSTRAINTS,
    );
    return { removedId: result ? encodeGlobalId('Contract', result) : null, userErrors };
  }
}
