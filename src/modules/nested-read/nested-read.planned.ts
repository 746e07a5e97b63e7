import { GraphQLFieldResolver, GraphQLSchema, defaultFieldResolver, isObjectType } from 'graphql';

/**
 * Where the nested-read planner (nested-read.loaders.ts) leaves what it read for a row: under this symbol,
 * by response key, the value of each planned field of that row (an object, or a connection ready to return).
 * The rows are made by the planner for one plan, so another selection of the same field never sees them.
 */
export const PLANNED = Symbol('planned fields');

export type PlannedFields = Record<string, unknown>;

/**
 * Each planned field (`Type.field`) answers from its row's PLANNED value when there is one, at once: no
 * loader, promise or type-graphql wrapper per field (about 700 fields on the benchmark's nested read). Any
 * other row (read by a loader, or a planned row whose object was a miss) goes to the field's own resolver.
 */
export function answerPlannedFields(schema: GraphQLSchema, coordinates: readonly string[]): void {
  for (const coordinate of coordinates) {
    const [typeName, fieldName] = coordinate.split('.');
    const type = schema.getType(typeName);
    const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
    if (!field)
      throw new Error(`The nested-read planner names ${coordinate}, which the schema does not have`);
    const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
    field.resolve = (parent, args, context, info) => {
      const planned = (parent as { [PLANNED]?: PlannedFields })[PLANNED];
      const value = planned?.[info.path.key];
      return value === undefined ? resolve(parent, args, context, info) : value;
    };
  }
}
