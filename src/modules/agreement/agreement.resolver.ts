import { Arg, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { Context } from '../../context';
import { encodeGlobalId } from '../../common/global-id';
import { asPayload } from '../../common/mutation';
import { RemovalPayload } from '../../common/payloads';
import { UserError } from '../../common/user-error';
import { ContractEntity } from '../contract/contract.entity';
import { Contract } from '../contract/contract.type';
import { SupplierEntity } from '../supplier/supplier.entity';
import { Supplier } from '../supplier/supplier.type';
import { AgreementEntity } from './agreement.entity';
import {
  CreateDataProcessingAgreementInput,
  RemoveDataProcessingAgreementInput,
  UpdateDataProcessingAgreementInput,
} from './agreement.inputs';
import { AGREEMENT_CONSTRAINTS } from './agreement.service';
import { DataProcessingAgreement } from './agreement.type';

@ObjectType({
  simpleResolvers: true,
  description: 'The result of a mutation on a data processing agreement.',
})
export class DataProcessingAgreementPayload {
  @Field(() => DataProcessingAgreement, {
    nullable: true,
    description: 'The agreement after the change; null when nothing was written.',
  })
  dataProcessingAgreement: AgreementEntity | null;

  @Field(() => [UserError], { description: 'Why nothing was written; empty on success.' })
  userErrors: UserError[];
}

@Resolver(() => DataProcessingAgreement)
export class AgreementResolver {
  @FieldResolver(() => ID, { description: 'Opaque global ID.' })
  id(@Root() agreement: AgreementEntity): string {
    return encodeGlobalId('DataProcessingAgreement', agreement.id);
  }

  @FieldResolver(() => Contract, { description: 'The contract this agreement belongs to.' })
  async contract(@Root() agreement: AgreementEntity, @Ctx() ctx: Context): Promise<ContractEntity> {
    const contract = await ctx.loaders.contractById.load(agreement.contractId);
    if (!contract) throw new Error(`Contract ${agreement.contractId} of agreement ${agreement.id} not found`);
    return contract;
  }

  @FieldResolver(() => [Supplier], {
    description: 'Sub-processors authorised under this agreement (for its data only).',
  })
  subprocessors(@Root() agreement: AgreementEntity, @Ctx() ctx: Context): Promise<SupplierEntity[]> {
    return ctx.loaders.subprocessorsByAgreement.load(agreement.id);
  }

  @Mutation(() => DataProcessingAgreementPayload, {
    description:
      'Records a data processing agreement under a contract. Admin only. Recomputes exposures of open incidents.',
  })
  async createDataProcessingAgreement(
    @Arg('input', () => CreateDataProcessingAgreementInput, { description: 'The new agreement.' })
    input: CreateDataProcessingAgreementInput,
    @Ctx() ctx: Context,
  ): Promise<DataProcessingAgreementPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.agreement.create(ctx.viewer, input),
      AGREEMENT_CONSTRAINTS,
    );
    return { dataProcessingAgreement: result, userErrors };
  }

  @Mutation(() => DataProcessingAgreementPayload, {
    description: 'Changes a data processing agreement. Admin only. Recomputes exposures of open incidents.',
  })
  async updateDataProcessingAgreement(
    @Arg('input', () => UpdateDataProcessingAgreementInput, {
      description: 'The agreement to change and its new terms.',
    })
    input: UpdateDataProcessingAgreementInput,
    @Ctx() ctx: Context,
  ): Promise<DataProcessingAgreementPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.agreement.update(ctx.viewer, input),
      AGREEMENT_CONSTRAINTS,
    );
    return { dataProcessingAgreement: result, userErrors };
  }

  @Mutation(() => RemovalPayload, {
    description:
      'Removes a data processing agreement. Admin only. It is archived, not deleted (removedAt). Recomputes exposures of open incidents.',
  })
  async removeDataProcessingAgreement(
    @Arg('input', () => RemoveDataProcessingAgreementInput, { description: 'The agreement to remove.' })
    input: RemoveDataProcessingAgreementInput,
    @Ctx() ctx: Context,
  ): Promise<RemovalPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.agreement.remove(ctx.viewer, input),
      AGREEMENT_CONSTRAINTS,
    );
    return { removedId: result ? encodeGlobalId('DataProcessingAgreement', result) : null, userErrors };
  }
}
