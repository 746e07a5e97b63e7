import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../common/connection';
import { Node, registerNodeType } from '../../common/node';
import { DateTimeScalar } from '../../common/scalars';
import { AlertKind } from '../alert/alert.entity';
import { WebhookDeliveryOutcome, WebhookEndpointEntity } from './webhook.entity';

registerEnumType(WebhookDeliveryOutcome, {
  name: 'WebhookDeliveryOutcome',
  description: 'What came of one delivery attempt.',
  valuesConfig: {
    SUCCESS: { description: 'The endpoint answered 2xx: the alert is delivered.' },
    HTTP_ERROR: {
      description: 'The endpoint answered with another status (3xx included: redirects are not followed).',
    },
    TIMEOUT: { description: 'No complete answer within WEBHOOK_TIMEOUT_MS.' },
    NETWORK_ERROR: { description: 'The connection failed (name not found, refused, reset, TLS).' },
    REFUSED_TARGET: {
      description:
        'Not sent: the URL resolved to a loopback, private, link-local or other non-public address, or is not https in production.',
    },
  },
});

@ObjectType('WebhookEndpoint', {
  simpleResolvers: true,
  implements: Node,
  description:
    "Where alerts are POSTed as they happen, signed by the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature). A client's endpoint receives only that client's alerts, and its webhook-id is the client's own alert number; an all-clients endpoint (admin) receives every alert with register-wide ids. Delivery is at least once, in alert order.",
})
export class WebhookEndpoint extends Node {
  @Field({ description: 'Where alerts are POSTed.' })
  url: string;

  @Field(() => [AlertKind], { description: 'The kinds of alerts delivered.' })
  kinds: AlertKind[];

  @Field(() => String, { nullable: true, description: 'What the endpoint is for.' })
  description: string | null;

  @Field({
    description:
      'Whether alerts are being delivered. false: paused, or disabled after failing for the whole retry window (see disabledReason); alerts wait and are delivered once it is enabled again.',
  })
  enabled: boolean;

  @Field(() => String, { nullable: true, description: 'Why the endpoint is not enabled; null when it is.' })
  disabledReason: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was disabled or paused.' })
  disabledAt: Date | null;

  @Field(() => Int, {
    description:
      'Failed attempts at the alert it is on now (0: the last attempt succeeded, or none was made yet).',
  })
  failedAttempts: number;

  @Field(() => DateTimeScalar, {
    description:
      'When the next attempt is due, if an alert is waiting (retries follow the backoff schedule).',
  })
  nextAttemptAt: Date;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'Until when the secret replaced by the last rotateWebhookSecret still signs alongside the current one; null when only one secret signs.',
  })
  previousSecretUntil: Date | null;

  @Field(() => DateTimeScalar, { description: 'When the endpoint was created.' })
  registeredAt: Date;
}
registerNodeType(WebhookEndpointEntity, 'WebhookEndpoint');

export const { EdgeType: WebhookEndpointEdge, ConnectionType: WebhookEndpointConnection } = connectionTypes(
  WebhookEndpoint,
  'WebhookEndpoint',
  'webhook endpoints',
);

@ObjectType('WebhookDelivery', {
  simpleResolvers: true,
  description: 'One attempt to deliver one alert to an endpoint.',
})
export class WebhookDelivery {
  @Field({
    description:
      'The webhook-id sent: the alert id as the endpoint numbers alerts (the same value exposureAlerts shows that viewer).',
  })
  webhookId: string;

  @Field(() => Int, {
    description: '1 for the first attempt at this alert, 2 for the first retry, and so on.',
  })
  attempt: number;

  @Field(() => DateTimeScalar, { description: 'When the attempt started.' })
  attemptedAt: Date;

  @Field(() => Int, { description: 'How long it took, in milliseconds.' })
  durationMs: number;

  @Field(() => Int, { nullable: true, description: "The response's HTTP status; null when none arrived." })
  statusCode: number | null;

  @Field(() => WebhookDeliveryOutcome, { description: 'What came of it.' })
  outcome: WebhookDeliveryOutcome;

  @Field(() => String, { nullable: true, description: 'Why it failed; null on success.' })
  error: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The first bytes of the response body (at most 1 KiB; the rest is not read).',
  })
  responseExcerpt: string | null;
}

export const { EdgeType: WebhookDeliveryEdge, ConnectionType: WebhookDeliveryConnection } = connectionTypes(
  WebhookDelivery,
  'WebhookDelivery',
  'webhook deliveries',
);
