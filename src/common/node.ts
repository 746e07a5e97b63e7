import { Field, ID, InterfaceType } from 'type-graphql';
import { NodeTypeName } from './global-id';

const nodeTypes: [abstract new (...args: never[]) => object, NodeTypeName][] = [];

/** Each feature registers its entity class so `Node` can tell which GraphQL type a value is. */
export function registerNodeType(entity: abstract new (...args: never[]) => object, typeName: NodeTypeName): void {
  nodeTypes.push([entity, typeName]);
}

@InterfaceType('Node', {
  description: 'An object with an opaque global ID; `node(id:)` fetches any of them.',
  resolveType: (value: object) => nodeTypes.find(([entity]) => value instanceof entity)?.[1],
})
export abstract class Node {
  @Field(() => ID, { description: 'Opaque global ID. Stable; never parse it.' })
  id: string;
}
