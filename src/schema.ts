import 'reflect-metadata';
import { ImportJobResolver } from './modules/register-io/import-job.resolver';
import { GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { buildSchema, getMetadataStorage } from 'type-graphql';
import { AgreementResolver } from './modules/agreement/agreement.resolver';
import { ClientResolver } from './modules/client/client.resolver';
import { ContractResolver } from './modules/contract/contract.resolver';
import {
  ClientExposureResolver,
  ExposureAlertReasonResolver,
  ExposureAsOfResolver,
  ExposureResolver,
  ExposureRevisionResolver,
  IncidentExposureResolver,
  SimulatedExposureResolver,
  SimulationResolver,
} from './modules/exposure/exposure.resolver';
import { IncidentResolver } from './modules/incident/incident.resolver';
import { NodeResolver } from './modules/node/node.resolver';
import { SupplierResolver } from './modules/supplier/supplier.resolver';
import { AlertResolver, deliverAlert } from './modules/alert/alert.resolver';
import { AuditResolver } from './modules/audit/audit.resolver';
import {
  ClientRegimesResolver,
  ExposureObligationResolver,
  SimulatedExposureObligationResolver,
} from './modules/obligation/obligation.resolver';
import { ConcentrationResolver } from './modules/concentration/concentration.resolver';
import { ExposureReportResolver } from './modules/report/report.resolver';
import { ViewerResolver } from './modules/viewer/viewer.resolver';
import { WebhookResolver } from './modules/webhook/webhook.resolver';
import { resolveNodeType } from './common/node';
import { PLANNED_FIELDS } from './modules/nested-read/nested-read.loaders';
import { answerPlannedFields } from './modules/nested-read/nested-read.planned';
import { DateScalar, DateTimeScalar } from './common/scalars';

export const RESOLVERS = [
  NodeResolver,
  SupplierResolver,
  ClientResolver,
  ContractResolver,
  AgreementResolver,
  IncidentResolver,
  ExposureResolver,
  ClientExposureResolver,
  IncidentExposureResolver,
  ExposureRevisionResolver,
  ExposureAsOfResolver,
  ExposureAlertReasonResolver,
  SimulationResolver,
  SimulatedExposureResolver,
  AlertResolver,
  AuditResolver,
  ExposureObligationResolver,
  SimulatedExposureObligationResolver,
  ClientRegimesResolver,
  ConcentrationResolver,
  ExposureReportResolver,
  ViewerResolver,
  WebhookResolver,
  ImportJobResolver,
] as const;

/**
 * Plain fields (a property of the parent value: a name, a score) are read by the executor itself instead
 * of through type-graphql's per-field wrapper, which exists only to run middlewares and @Authorized checks:
 * every object type says `@ObjectType({ simpleResolvers: true })` (test/schema/resolvers.test.ts checks
 * that none is missing). On the benchmark's nested read, thousands of such fields per request were a
 * wrapper call and an allocation each; graphql-jit inlines a direct read instead. This schema uses neither
 * middlewares nor @Authorized (every viewer's access is applied in the loaders and services), and start-up
 * fails if one appears, so no check can be skipped silently.
 */
function assertNoFieldGuards(): void {
  const storage = getMetadataStorage();
  const guarded = [
    storage.middlewares,
    storage.resolverMiddlewares,
    storage.authorizedFields,
    storage.authorizedResolver,
  ].some((list) => list.length > 0);
  if (guarded)
    throw new Error(
      'A middleware or @Authorized decorator is in use: plain fields and direct resolver calls would skip it (drop simpleResolvers and callFieldResolversDirectly first)',
    );
}

/** The fields callFieldResolversDirectly rewired in each schema, as "Type.field" (pinned by a test). */
const directlyCalled = new WeakMap<GraphQLSchema, string[]>();

export function fieldsCalledDirectly(schema: GraphQLSchema): readonly string[] {
  return directlyCalled.get(schema) ?? [];
}

/**
 * Field resolvers that take only the parent (@Root), and perhaps the context (@Ctx) after it, are called
 * directly: ids, relations such as Contract.supplier, computed values. Around each call type-graphql
 * builds a resolver-data object, sorts the parameter list anew and runs the (empty) middleware chain; on the
 * nested read that was 600 calls per request and a sixth of everything the request allocated. The parent
 * is passed as it is (type-graphql would copy a value that is not an instance of the declared @Root type;
 * ours are entity rows, or plain values whose resolvers only read properties). Resolvers taking arguments
 * keep type-graphql's wrapper, which converts the arguments into their classes.
 */
/** A resolver class's instance, seen as the methods type-graphql's metadata names. */
type ResolverInstance = Record<string, (...args: unknown[]) => unknown>;

function callFieldResolversDirectly(schema: GraphQLSchema): void {
  const storage = getMetadataStorage();
  const instances = new Map<object, ResolverInstance>();
  const rewired: string[] = [];
  for (const resolver of storage.fieldResolvers) {
    // Only resolvers of a resolver class (@Resolver(() => Type)); a method on the object type class itself
    // ("internal") is called on the parent value, which type-graphql builds for it.
    if (resolver.kind !== 'external') continue;
    const params = [...(resolver.params ?? [])].sort((a, b) => a.index - b.index);
    // A @Root('name') or @Ctx('name') picks a property: that one keeps the wrapper too.
    const signature = params
      .map((param) => ('propertyName' in param && param.propertyName ? 'property' : param.kind))
      .join(',');
    if (signature !== 'root' && signature !== 'root,context') continue;
    const typeName = storage.objectTypes.find(
      (objectType) => objectType.target === resolver.getObjectType?.(),
    )?.name;
    const type = typeName ? schema.getType(typeName) : undefined;
    const field = type instanceof GraphQLObjectType ? type.getFields()[resolver.schemaName] : undefined;
    if (!field) continue;
    let instance = instances.get(resolver.target);
    if (!instance)
      instances.set(resolver.target, (instance = new (resolver.target as new () => ResolverInstance)()));
    const target = instance;
    const method = instance[resolver.methodName];
    field.resolve =
      signature === 'root'
        ? (root) => method.call(target, root)
        : (root, _args, context) => method.call(target, root, context);
    rewired.push(`${typeName}.${field.name}`);
  }
  directlyCalled.set(schema, rewired.sort());
}

/**
 * Builds the executable schema from the decorated classes. Validation runs in the services
 * (class-validator, see common/validation.ts) so bad input becomes userErrors, not top-level errors.
 */
export async function createSchema(): Promise<GraphQLSchema> {
  assertNoFieldGuards();
  const schema = await buildSchema({
    resolvers: [...RESOLVERS],
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    orphanedTypes: [],
    // type-graphql insists on a PubSub once any @Subscription exists, even though exposureAlerts brings
    // its own `subscribe` (the alert hub, see modules/alert). Topic-based publishing is not used anywhere.
    pubSub: {
      publish() {
        throw new Error('Topic-based subscriptions are not used: alerts flow through the alert hub');
      },
      subscribe() {
        throw new Error('Topic-based subscriptions are not used: alerts flow through the alert hub');
      },
    },
  });
  // type-graphql wraps every resolveType in an async function; graphql-jit needs the type name at once
  // (and graphql-js saves a promise per value). Our resolveNodeType is synchronous.
  (schema.getType('Node') as GraphQLInterfaceType).resolveType = resolveNodeType;
  callFieldResolversDirectly(schema);
  // Fields the nested-read planner has already read on its rows answer from there (modules/nested-read).
  answerPlannedFields(schema, PLANNED_FIELDS);
  // Each alert event, for each subscriber, without type-graphql's per-call conversion of the subscription's
  // arguments (they were applied once, when subscribing): see deliverAlert.
  schema.getSubscriptionType()!.getFields().exposureAlerts.resolve = (event, _args, context) =>
    deliverAlert(event, context);
  // type-graphql has no option to describe the root types; GraphiQL shows these first.
  schema.getQueryType()!.description =
    'Read the register: suppliers, clients, contracts, incidents and every client’s exposure. Every request carries Authorization: Bearer <JWT>; a client-role token sees only its own client.';
  schema.getMutationType()!.description =
    'Change the register. Each mutation takes one `input` and returns a payload with `userErrors`; nothing is written when there are any.';
  schema.getSubscriptionType()!.description =
    'Live alerts over WebSocket (graphql-transport-ws protocol) at /graphql.';
  return schema;
}

export { DateScalar };
