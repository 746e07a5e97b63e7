import { Field, ID, InterfaceType } from 'type-graphql';
import { NodeTypeName } from './global-id';

type AnyClass = abstract new (...args: never[]) => object;
const nodeTypes: [AnyClass, NodeTypeName][] = [];

/**
 * Each feature registers its entity class with its GraphQL type, so `Node` can tell which GraphQL type a
 * value is. It also makes the entity's rows count as instances of the GraphQL type class: before each
 * @FieldResolver call type-graphql copies the parent value into a new instance of that class unless it
 * already is one, and register rows are entity instances, so every nested field cost a copy of its row
 * (a tenth of the nested read's throughput, docs/performance.md).
 */
export function registerNodeType(entity: AnyClass, typeName: NodeTypeName, graphqlType: AnyClass): void {
  nodeTypes.push([entity, typeName]);
  const ownInstanceCheck = Function.prototype[Symbol.hasInstance];
  Object.defineProperty(graphqlType, Symbol.hasInstance, {
    value: (value: unknown) => value instanceof entity || ownInstanceCheck.call(graphqlType, value),
  });
}

/** The GraphQL type of a value `node(id:)` returns, by its entity class. */
export function resolveNodeType(value: object): NodeTypeName | undefined {
  return nodeTypes.find(([entity]) => value instanceof entity)?.[1];
}

@InterfaceType('Node', {
  description: 'An object with an opaque global ID; `node(id:)` fetches any of them.',
  resolveType: resolveNodeType,
})
export abstract class Node {
  @Field(() => ID, { description: 'Opaque global ID. Stable; never parse it.' })
  id: string;
}
