import { GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Args,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Info,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { selectedNodeFields } from '../../common/selection';
import { PageArgsType } from '../../common/page-args';
import { Context } from '../../context';
import { encodeGlobalId } from '../../common/global-id';
import { asPayload } from '../../common/mutation';
import { RemovalPayload } from '../../common/payloads';
import { UserError } from '../../common/user-error';
import { Connection } from '../../common/connection';
import { ContractConnection } from '../contract/contract.type';
import { ContractEntity } from '../contract/contract.entity';
import { IncidentConnection } from '../incident/incident.type';
import { IncidentEntity } from '../incident/incident.entity';
import { SupplierEntity } from './supplier.entity';
import {
  AddSubprocessorInput,
  CreateSupplierInput,
  RemoveSubprocessorInput,
  RemoveSupplierInput,
  SupplierFilter,
  SupplierOrder,
  UpdateSupplierInput,
} from './supplier.inputs';
import { ContractOrder } from '../contract/contract.inputs';
import { IncidentFilter } from '../incident/incident.inputs';
import { SUPPLIER_CONSTRAINTS } from './supplier.service';
import { Supplier, SupplierConnection, SupplierDependentConnection } from './supplier.type';
import { SupplierDependent } from './supplier.loaders';

@ObjectType({ simpleResolvers: true, description: 'The result of a mutation on a supplier.' })
export class SupplierPayload {
  @Field(() => Supplier, {
    nullable: true,
    description: 'The supplier after the change; null when nothing was written.',
  })
  supplier: SupplierEntity | null;

  @Field(() => [UserError], { description: 'Why nothing was written; empty on success.' })
  userErrors: UserError[];
}

@Resolver(() => Supplier)
export class SupplierResolver {
  @Query(() => SupplierConnection, {
    description: 'Suppliers in the register, by name unless `orderBy` says otherwise.',
  })
  suppliers(
    @Args() page: PageArgsType,
    @Arg('filter', () => SupplierFilter, { nullable: true, description: 'Narrow the list.' })
    filter: SupplierFilter | null,
    @Arg('orderBy', () => SupplierOrder, {
      nullable: true,
      description: 'The order (default by name), e.g. { field: DEPENDENTS } for the most depended-on first.',
    })
    orderBy: SupplierOrder | null,
    @Ctx() ctx: Context,
  ): Promise<Connection<SupplierEntity>> {
    return ctx.services.supplier.list(ctx.viewer, filter, page, orderBy);
  }

  @FieldResolver(() => ID, { description: 'Opaque global ID.' })
  id(@Root() supplier: SupplierEntity): string {
    return encodeGlobalId('Supplier', supplier.id);
  }

  @FieldResolver(() => String, {
    description:
      "Where this supplier's supply chain is drawn: the path of an HTML page (add `.svg` for the picture alone) with the supplier, its sub-processors and dependents through chains, and the clients whose contracts reach it (a client-role caller: its own contracts only). It needs the same `Authorization: Bearer` header as the API: paste this supplier's id into the *Open* bar at the top of GraphiQL, which fetches it with GraphiQL's headers, or `curl -H 'Authorization: Bearer …'`.",
  })
  chainPictureUrl(@Root() supplier: SupplierEntity): string {
    return `/suppliers/${encodeGlobalId('Supplier', supplier.id)}/chain`;
  }

  @FieldResolver(() => [Supplier], {
    description: 'Suppliers this supplier relies on for all its processing (supplier-level sub-processors).',
  })
  subprocessors(@Root() supplier: SupplierEntity, @Ctx() ctx: Context): Promise<SupplierEntity[]> {
    return ctx.loaders.subprocessorsBySupplier.load(supplier.id);
  }

  @FieldResolver(() => SupplierDependentConnection, {
    description:
      'Suppliers that use this one as a sub-processor (supplier-level links), directly or through chains, nearest first, then by name, each at its shortest depth. The reverse of subprocessors: who depends on AWS.',
  })
  dependents(
    @Root() supplier: SupplierEntity,
    @Args() page: PageArgsType,
    @Ctx() ctx: Context,
  ): Promise<Connection<SupplierDependent>> {
    return ctx.services.supplier.pageDependents(ctx.loaders, supplier.id, page);
  }

  @FieldResolver(() => ContractConnection, {
    description:
      'Contracts with this supplier that you may see (a client sees only its own), by reference unless `orderBy` says otherwise.',
  })
  async contracts(
    @Root() supplier: SupplierEntity,
    @Args() page: PageArgsType,
    @Arg('orderBy', () => ContractOrder, {
      nullable: true,
      description: 'The order (default by reference), e.g. { field: ENDS_ON } for the soonest end first.',
    })
    orderBy: ContractOrder | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<ContractEntity>> {
    const planned = ctx.loaders.nestedRead.connection<ContractEntity>(info, supplier.id);
    if (planned) return planned;
    return ctx.services.contract.pageForSupplier(
      ctx.loaders,
      supplier.id,
      page,
      selectedNodeFields(info),
      orderBy,
    );
  }

  @FieldResolver(() => IncidentConnection, {
    description: 'Incidents at this supplier that you may see, most recently detected first.',
  })
  incidents(
    @Root() supplier: SupplierEntity,
    @Args() page: PageArgsType,
    @Arg('filter', () => IncidentFilter, {
      nullable: true,
      description:
        'Narrow the list (status, detected range); a supplierId other than this one matches nothing.',
    })
    filter: IncidentFilter | null,
    @Ctx() ctx: Context,
  ): Promise<Connection<IncidentEntity>> {
    return ctx.services.incident.pageForSupplier(ctx.loaders, supplier.id, page, filter);
  }

  @Mutation(() => SupplierPayload, { description: 'Adds a supplier to the register. Admin only.' })
  async createSupplier(
    @Arg('input', () => CreateSupplierInput, { description: 'The new supplier.' }) input: CreateSupplierInput,
    @Ctx() ctx: Context,
  ): Promise<SupplierPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.supplier.create(ctx.viewer, input),
      SUPPLIER_CONSTRAINTS,
    );
    return { supplier: result, userErrors };
  }

  @Mutation(() => SupplierPayload, { description: "Changes a supplier's details. Admin only." })
  async updateSupplier(
    @Arg('input', () => UpdateSupplierInput, { description: 'The supplier to change and its new details.' })
    input: UpdateSupplierInput,
    @Ctx() ctx: Context,
  ): Promise<SupplierPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.supplier.update(ctx.viewer, input),
      SUPPLIER_CONSTRAINTS,
    );
    return { supplier: result, userErrors };
  }

  @Mutation(() => RemovalPayload, {
    description:
      'Removes a supplier that nothing in the register depends on, with its own sub-processor links. Admin only. The supplier is archived, not deleted (removedAt): the exposure records that name it still show it.',
  })
  async removeSupplier(
    @Arg('input', () => RemoveSupplierInput, { description: 'The supplier to remove.' })
    input: RemoveSupplierInput,
    @Ctx() ctx: Context,
  ): Promise<RemovalPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.supplier.remove(ctx.viewer, input),
      SUPPLIER_CONSTRAINTS,
    );
    return { removedId: result ? encodeGlobalId('Supplier', result) : null, userErrors };
  }

  @Mutation(() => SupplierPayload, {
    description:
      'Records that a supplier relies on a sub-processor for all the data it holds. Admin only. Recomputes exposures of open incidents.',
  })
  async addSubprocessor(
    @Arg('input', () => AddSubprocessorInput, { description: 'The supplier and the sub-processor to link.' })
    input: AddSubprocessorInput,
    @Ctx() ctx: Context,
  ): Promise<SupplierPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.supplier.addSubprocessor(ctx.viewer, input),
      SUPPLIER_CONSTRAINTS,
    );
    return { supplier: result, userErrors };
  }

  @Mutation(() => SupplierPayload, {
    description:
      'Removes a supplier-level sub-processor link. Admin only. Recomputes exposures of open incidents.',
  })
  async removeSubprocessor(
    @Arg('input', () => RemoveSubprocessorInput, {
      description: 'The supplier and the sub-processor to unlink.',
    })
    input: RemoveSubprocessorInput,
    @Ctx() ctx: Context,
  ): Promise<SupplierPayload> {
    const { result, userErrors } = await asPayload(
      () => ctx.services.supplier.removeSubprocessor(ctx.viewer, input),
      SUPPLIER_CONSTRAINTS,
    );
    return { supplier: result, userErrors };
  }
}
