import { ArrayMaxSize, ArrayMinSize, IsOptional, IsString, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { MaxFilterLength } from '../../common/validation';
import { AlertKind } from '../alert/alert.entity';

@InputType({ description: 'A new webhook endpoint: where alerts are POSTed, and which.' })
export class CreateWebhookEndpointInput {
  @Field({
    description:
      'Where alerts are POSTed: an https:// URL (http:// is accepted outside production), at most 2,000 characters, without user name or password. Addresses that are loopback, private, link-local or otherwise not public are refused when delivering unless WEBHOOK_ALLOW_PRIVATE_TARGETS is set.',
  })
  @IsString()
  @MaxLength(2000, { message: 'url must be at most 2,000 characters long' })
  url: string;

  @Field(() => ID, {
    nullable: true,
    description:
      "Deliver only this client's alerts, numbered as that client sees them. Required for a client-role caller (it may name only its own client; omitted, it is its own). Omitted by an admin: every client's alerts, with register-wide ids.",
  })
  clientId?: string | null;

  @Field(() => [AlertKind], {
    nullable: true,
    description: 'Only alerts of these kinds; omitted: all kinds.',
  })
  @IsOptional()
  @ArrayMinSize(1, { message: 'kinds must name at least one kind (omit it for all kinds)' })
  @ArrayMaxSize(10)
  kinds?: AlertKind[] | null;

  @Field(() => String, { nullable: true, description: 'What the endpoint is for, at most 500 characters.' })
  @IsOptional()
  @IsString()
  @MaxLength(500, { message: 'description must be at most 500 characters long' })
  description?: string | null;
}

@InputType({ description: 'Changes to a webhook endpoint; omitted fields stay as they are.' })
export class UpdateWebhookEndpointInput {
  @Field(() => ID, { description: 'The endpoint to change.' })
  id: string;

  @Field(() => String, { nullable: true, description: 'New URL (same rules as when creating).' })
  @IsOptional()
  @IsString()
  @MaxLength(2000, { message: 'url must be at most 2,000 characters long' })
  url?: string | null;

  @Field(() => [AlertKind], { nullable: true, description: 'New kinds of alerts to deliver.' })
  @IsOptional()
  @ArrayMinSize(1, { message: 'kinds must name at least one kind' })
  @ArrayMaxSize(10)
  kinds?: AlertKind[] | null;

  @Field(() => String, { nullable: true, description: 'New description; an empty text clears it.' })
  @IsOptional()
  @IsString()
  @MaxLength(500, { message: 'description must be at most 500 characters long' })
  description?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'false pauses deliveries (alerts wait, nothing is lost); true resumes them, and re-enables an endpoint disabled after failing: the alert it failed on is sent again at once.',
  })
  @IsOptional()
  enabled?: boolean | null;
}

@InputType({ description: 'The webhook endpoint to remove (with its delivery history).' })
export class RemoveWebhookEndpointInput {
  @Field(() => ID, { description: 'The endpoint to remove.' })
  id: string;
}

@InputType({ description: 'The webhook endpoint whose signing secret is replaced.' })
export class RotateWebhookSecretInput {
  @Field(() => ID, { description: 'The endpoint.' })
  id: string;
}

@InputType({ description: 'Re-send alerts to an endpoint from a point in its sequence.' })
export class ReplayWebhookInput {
  @Field(() => ID, { description: 'The endpoint.' })
  endpointId: string;

  @Field(() => ID, {
    nullable: true,
    description:
      "Re-send every alert after this alert id, as the endpoint numbers them (the webhook-id header: for a client's endpoint the client's own alert numbers, else register-wide ids); omitted or 0: from the first alert.",
  })
  after?: string | null;
}

@InputType({ description: 'Filters for the webhook endpoint list; all given filters must match.' })
export class WebhookEndpointFilter {
  @Field(() => Boolean, {
    nullable: true,
    description: 'true: only disabled or paused endpoints (enabled false); false: only enabled ones.',
  })
  disabled?: boolean | null;

  @Field(() => ID, { nullable: true, description: "Only this client's endpoints (admin and analyst)." })
  @IsOptional()
  @MaxFilterLength()
  clientId?: string | null;
}
