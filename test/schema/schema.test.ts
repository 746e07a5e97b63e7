import fs from 'node:fs';
import path from 'node:path';
import {
  GraphQLArgument,
  GraphQLField,
  GraphQLInputField,
  GraphQLNamedType,
  GraphQLSchema,
  GraphQLType,
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument,
  isRequiredInputField,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
} from 'graphql';
import { SCHEMA_FILE, repositoryRoot, schemaSdl } from '../../src/scripts/emit-schema';
import { testSchema } from '../support/app';

/** The public API floor (a copy of the design's contract.graphql, kept in the repository so a plain clone's tests pass). */
const CONTRACT_PATH = path.resolve(__dirname, '../../schema/contract.graphql');

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await testSchema();
});

describe('schema/schema.graphql', () => {
  it('is the SDL built from the code right now (run `npm run schema:emit` after changing the schema)', () => {
    const file = path.join(repositoryRoot(__dirname), SCHEMA_FILE);
    const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const built = schemaSdl(schema);
    if (committed !== built) {
      // A line-level hint is kinder than a 1,400-line string diff.
      const a = committed.split('\n');
      const b = built.split('\n');
      const line = b.findIndex((text, i) => text !== a[i]);
      throw new Error(
        `${SCHEMA_FILE} is out of date with the code: run \`npm run schema:emit\` and commit the result.\n` +
          `First difference at line ${line + 1}:\n  committed: ${JSON.stringify(a[line])}\n  from code: ${JSON.stringify(b[line])}`,
      );
    }
    expect(committed).toBe(built);
  });
});

/**
 * Type compatibility, one wrapper at a time. `narrower` may be non-null where `wider` is nullable,
 * and must otherwise have the same shape (lists at the same depth) and the same named type.
 * Abstract types get no special case: the contract names exact types, so a field typed `Node`
 * where the contract says `Supplier` would not do, even though every Supplier is a Node.
 */
function isSameOrStricter(narrower: GraphQLType, wider: GraphQLType): boolean {
  if (isNonNullType(wider)) return isNonNullType(narrower) && isSameOrStricter(narrower.ofType, wider.ofType);
  if (isNonNullType(narrower)) return isSameOrStricter(narrower.ofType, wider);
  if (isListType(wider)) return isListType(narrower) && isSameOrStricter(narrower.ofType, wider.ofType);
  if (isListType(narrower)) return false;
  return (narrower as GraphQLNamedType).name === (wider as GraphQLNamedType).name;
}

/**
 * What a client written against the contract relies on:
 * - Output fields (what it reads): ours may be non-null where the contract allows null. A client
 *   that handles null also handles "never null"; the reverse would hand it nulls it never expected.
 * - Arguments and input fields (what it sends): ours must accept everything the contract accepts,
 *   so they may be nullable where the contract says non-null but never the other way round: a
 *   client omitting an optional contract argument, or declaring `$x: ID` for it, must still pass
 *   validation. That is the output rule with the two sides swapped (and it is the same rule as
 *   GraphQL's "variable in allowed position").
 * - Arguments and input fields that the contract does not have must be optional, or a
 *   contract-conforming request would fail validation for leaving them out.
 * - Enum values, fields, arguments, input fields and interface implementations of the contract
 *   must all exist; ours may add more of each ("the floor, not the ceiling").
 */
function conformanceProblems(ours: GraphQLSchema, contract: GraphQLSchema): string[] {
  const problems: string[] = [];
  const print = (type: GraphQLType) => String(type);
  const rootOf = (s: GraphQLSchema, name: string) =>
    ({ [s.getQueryType()?.name ?? '']: 'query', [s.getMutationType()?.name ?? '']: 'mutation', [s.getSubscriptionType()?.name ?? '']: 'subscription' })[name];

  const checkArgs = (where: string, ourArgs: readonly (GraphQLArgument | GraphQLInputField)[], contractArgs: readonly (GraphQLArgument | GraphQLInputField)[], kind: 'argument' | 'input field') => {
    for (const wanted of contractArgs) {
      const have = ourArgs.find((a) => a.name === wanted.name);
      if (!have) problems.push(`${where}: ${kind} ${wanted.name}: ${print(wanted.type)} is missing`);
      else if (!isSameOrStricter(wanted.type, have.type)) problems.push(`${where}: ${kind} ${wanted.name} is ${print(have.type)}, contract ${print(wanted.type)} (inputs may be looser, never stricter)`);
    }
    for (const extra of ourArgs) {
      if (contractArgs.some((a) => a.name === extra.name)) continue;
      const required = 'defaultValue' in extra && (kind === 'argument' ? isRequiredArgument(extra as GraphQLArgument) : isRequiredInputField(extra as GraphQLInputField));
      if (required) problems.push(`${where}: extra ${kind} ${extra.name}: ${print(extra.type)} is required, so contract requests would fail`);
    }
  };

  for (const wanted of Object.values(contract.getTypeMap())) {
    if (isIntrospectionType(wanted) || isSpecifiedScalarType(wanted)) continue;
    // Root types are matched by role, whatever they are called.
    const role = rootOf(contract, wanted.name);
    const have = role ? (role === 'query' ? ours.getQueryType() : role === 'mutation' ? ours.getMutationType() : ours.getSubscriptionType()) : ours.getType(wanted.name);
    if (!have) {
      problems.push(`type ${wanted.name} is missing`);
      continue;
    }
    const kindOf = (t: GraphQLNamedType) =>
      isObjectType(t) ? 'object' : isInterfaceType(t) ? 'interface' : isEnumType(t) ? 'enum' : isInputObjectType(t) ? 'input' : isScalarType(t) ? 'scalar' : isUnionType(t) ? 'union' : 'other';
    if (kindOf(have) !== kindOf(wanted)) {
      problems.push(`${wanted.name} is a ${kindOf(have)}, contract says ${kindOf(wanted)}`);
      continue;
    }
    if ((isObjectType(wanted) || isInterfaceType(wanted)) && (isObjectType(have) || isInterfaceType(have))) {
      for (const iface of wanted.getInterfaces()) {
        if (!have.getInterfaces().some((i) => i.name === iface.name)) problems.push(`${wanted.name} does not implement ${iface.name}`);
      }
      const ourFields = have.getFields();
      for (const field of Object.values(wanted.getFields()) as GraphQLField<unknown, unknown>[]) {
        const mine = ourFields[field.name];
        if (!mine) {
          problems.push(`${wanted.name}.${field.name}: ${print(field.type)} is missing`);
          continue;
        }
        if (!isSameOrStricter(mine.type, field.type)) problems.push(`${wanted.name}.${field.name} is ${print(mine.type)}, contract ${print(field.type)} (outputs may be stricter, never looser)`);
        checkArgs(`${wanted.name}.${field.name}`, mine.args, field.args, 'argument');
      }
    }
    if (isInputObjectType(wanted) && isInputObjectType(have)) {
      checkArgs(wanted.name, Object.values(have.getFields()), Object.values(wanted.getFields()), 'input field');
    }
    if (isEnumType(wanted) && isEnumType(have)) {
      for (const value of wanted.getValues()) {
        if (!have.getValue(value.name)) problems.push(`enum ${wanted.name} lacks the value ${value.name}`);
      }
    }
  }
  return problems;
}

describe('contract conformance (schema/contract.graphql)', () => {
  it('finds the contract beside the clone', () => {
    expect(fs.existsSync(CONTRACT_PATH)).toBe(true);
  });

  it('has every type, field, argument, input field, enum value and interface of the contract, with compatible types', () => {
    const contract = buildSchema(fs.readFileSync(CONTRACT_PATH, 'utf8'));
    expect(conformanceProblems(schema, contract)).toEqual([]);
  });

  // The checker itself, on small schemas, so a lenient bug in it cannot hide a break in the real one.
  it('the checker accepts stricter outputs and looser inputs, and rejects the opposite', () => {
    const contract = buildSchema(`
      interface Node { id: ID! }
      enum Colour { RED GREEN }
      input In { a: ID!  b: String }
      type Thing implements Node { id: ID!  name: String  tags: [String!]  colour: Colour! }
      type Query { thing(id: ID!, q: String): Thing  things(input: In): [Thing!]! }
    `);
    const good = buildSchema(`
      interface Node { id: ID! }
      enum Colour { RED GREEN BLUE }
      input In { a: ID  b: String  c: Int  d: Int! = 3 }
      type Thing implements Node { id: ID!  name: String!  tags: [String!]!  colour: Colour!  extra: Int }
      type Query { thing(id: ID, q: String, more: Int): Thing!  things(input: In): [Thing!]! }
    `);
    expect(conformanceProblems(good, contract)).toEqual([]);

    const bad = buildSchema(`
      interface Node { id: ID! }
      enum Colour { RED }
      input In { a: ID!  b: String!  z: Int! }
      type Thing { id: ID!  name: Int  tags: [String]  colour: Colour }
      type Query { thing(id: ID!, q: String!, must: Int!): Thing  things(input: In): [Thing!] }
    `);
    expect(conformanceProblems(bad, contract).sort()).toEqual(
      [
        'In: input field b is String!, contract String (inputs may be looser, never stricter)',
        'In: extra input field z: Int! is required, so contract requests would fail',
        'Query.thing: argument q is String!, contract String (inputs may be looser, never stricter)',
        'Query.thing: extra argument must: Int! is required, so contract requests would fail',
        'Query.things is [Thing!], contract [Thing!]! (outputs may be stricter, never looser)',
        'Thing does not implement Node',
        'Thing.colour is Colour, contract Colour! (outputs may be stricter, never looser)',
        'Thing.name is Int, contract String (outputs may be stricter, never looser)',
        'Thing.tags is [String], contract [String!] (outputs may be stricter, never looser)',
        'enum Colour lacks the value GREEN',
      ].sort(),
    );
  });
});

describe('descriptions', () => {
  it('every type, field, argument, enum value and input field has a description (GraphiQL is the manual)', () => {
    const missing: string[] = [];
    const need = (what: string, description: string | null | undefined) => {
      if (!description?.trim()) missing.push(what);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
      need(`type ${type.name}`, type.description);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          need(`${type.name}.${field.name}`, field.description);
          for (const arg of field.args) need(`${type.name}.${field.name}(${arg.name})`, arg.description);
        }
      }
      if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) need(`${type.name}.${field.name}`, field.description);
      if (isEnumType(type)) for (const value of type.getValues()) need(`${type.name}.${value.name}`, value.description);
    }
    expect(missing).toEqual([]);
  });
});
