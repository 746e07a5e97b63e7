import { GraphQLSchema, Kind, OperationDefinitionNode } from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import type { Context } from '../context';
import type { AuditActor } from '../common/request-scope';

/** A mutation's root fields with their argument values: the "what" of the audit trail. */
function mutationInput(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
) {
  const mutationType = schema.getMutationType();
  return operation.selectionSet.selections.flatMap((selection) => {
    if (selection.kind !== Kind.FIELD || !mutationType) return [];
    const field = mutationType.getFields()[selection.name.value];
    return field ? [{ field: field.name, arguments: getArgumentValues(field, selection, variables) }] : [];
  });
}

/**
 * Who is changing the register, through which operation and with what input: stamped on every audit row,
 * whichever transport carried the mutation. The operation is the one asked for, else the document's own name.
 */
export function auditActor(
  context: Context,
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
): AuditActor {
  const { viewer, requestId } = context;
  return {
    subject: viewer.subject,
    role: viewer.role,
    clientId: viewer.clientId,
    operation: operationName ?? operation.name?.value ?? 'anonymous mutation',
    input: mutationInput(schema, operation, variables),
    requestId,
  };
}
