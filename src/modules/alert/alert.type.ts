import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../common/scalars';
import { Exposure } from '../exposure/exposure.type';
import { ExposureEntity } from '../exposure/exposure.entity';
import { AlertKind } from './alert.entity';

registerEnumType(AlertKind, {
  name: 'AlertKind',
  description: 'What happened to an exposure.',
  valuesConfig: {
    NEW: { description: 'The client became exposed (or exposed again after a resolution).' },
    CHANGED: { description: 'Score, level, categories, people, contracts or path changed.' },
    RESOLVED: { description: 'The exposure no longer applies.' },
  },
});

@ObjectType('ExposureAlert', { description: 'A durable record that an exposure appeared, changed or resolved. Alerts are ordered; the id is a replay cursor.' })
export class ExposureAlert {
  @Field(() => ID, { description: 'Ordered alert id; pass it as exposureAlerts(after:) to resume after this alert.' })
  id: string;

  @Field(() => AlertKind, { description: 'What happened.' })
  kind: AlertKind;

  @Field(() => DateTimeScalar, { description: 'When the register recorded the change.' })
  occurredAt: Date;

  @Field(() => Exposure, { description: 'The exposure as this alert announced it (that revision’s figures; the notification decision is the current one).' })
  exposure: ExposureEntity;
}

/** What the alert hub and the replay query produce for each alert. */
export interface AlertEvent {
  id: string;
  /** Numeric form of id, for ordering. */
  seq: bigint;
  kind: AlertKind;
  occurredAt: Date;
  clientId: string;
  exposure: ExposureEntity;
}
