import { Field, ID, InterfaceType } from 'type-graphql';
import { NodeTypeName } from './global-id';

type AnyClass = abstract new (...args: never[]) => object;
const nodeTypes: [AnyClass, NodeTypeName][] = [];

/** Each feature registers its entity class so `Node` can tell which GraphQL type a value is. */
export function registerNodeType(entity: AnyClass, typeName: NodeTypeName): void {
  nodeTypes.push([entity, typeName]);
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
