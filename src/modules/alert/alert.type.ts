import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../common/scalars';
import { Exposure } from '../exposure/exposure.type';
import { ExposureEntity } from '../exposure/exposure.entity';
import { AlertKind } from './alert.entity';
import type { Viewer } from '../../auth/viewer';
import { ObligationMilestone, RegulatoryRegime } from '../obligation/regimes';

registerEnumType(AlertKind, {
  name: 'AlertKind',
  description: 'What happened to an exposure.',
  valuesConfig: {
    NEW: { description: 'The client became exposed (or exposed again after a resolution).' },
    CHANGED: { description: 'Score, level, categories, people, contracts or path changed.' },
    RESOLVED: { description: 'The exposure no longer applies.' },
    REVIEW_NEEDED: {
      description:
        'The exposure widened (categories added, special category data, more people, exfiltration raised) after a NOT_REQUIRED decision: the decision needs review and the obligation is open again.',
    },
    DUE_SOON: {
      description:
        "An obligation's deadline is near: 24 h and 4 h before it, or when the last fifth of a clock of a day or less begins (the reminders job; regime, milestone and dueAt say which).",
    },
    OVERDUE: {
      description:
        "An obligation's deadline passed with no decision (the reminders job; regime, milestone and dueAt say which).",
    },
  },
});

@ObjectType('ExposureAlert', {
  simpleResolvers: true,
  description:
    'A durable record that an exposure appeared, changed or resolved. Alerts are ordered; the id is a replay cursor.',
})
export class ExposureAlert {
  @Field(() => ID, {
    description:
      "Ordered alert id; pass it as exposureAlerts(after:) to resume after this alert. For a client-role caller it is that client's own alert number (1, 2, 3, … with no gaps: it counts only its own alerts); for admin and analyst it is the register-wide id, with or without clientId.",
  })
  id: string;

  @Field(() => AlertKind, { description: 'What happened.' })
  kind: AlertKind;

  @Field(() => DateTimeScalar, { description: 'When the register recorded the change.' })
  occurredAt: Date;

  @Field(() => Exposure, {
    description:
      'The exposure as this alert announced it (that revision’s figures; the notification decision is the current one).',
  })
  exposure: ExposureEntity;

  @Field(() => RegulatoryRegime, {
    nullable: true,
    description: 'DUE_SOON and OVERDUE: the regime of the obligation reminded of; null for other kinds.',
  })
  regime: RegulatoryRegime | null;

  @Field(() => ObligationMilestone, {
    nullable: true,
    description: 'DUE_SOON and OVERDUE: the milestone reminded of; null for other kinds.',
  })
  milestone: ObligationMilestone | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      "DUE_SOON and OVERDUE: the obligation's deadline when the reminder was written; null for other kinds.",
  })
  dueAt: Date | null;
}

/**
 * The alert id a viewer sees, receives in `resumeAfter` and passes as `after`: a client-role viewer numbers
 * only its own alerts (1, 2, 3, …), so nothing in it counts other clients' alerts; admin and analyst see
 * the register-wide id, whether or not they filter by clientId.
 */
export function alertIdSeenBy(role: Viewer['role'], event: AlertEvent): string {
  return role === 'client' ? event.clientSeq : event.id;
}

/** What the alert hub and the replay query produce for each alert. */
export interface AlertEvent {
  id: string;
  /** Numeric form of id, for ordering. */
  seq: bigint;
  /** The client's own alert number (gap-free per client): the id a client-role viewer sees. */
  clientSeq: string;
  kind: AlertKind;
  occurredAt: Date;
  clientId: string;
  /** Without the properties in `leftOut` (those no subscription it was read for selects; alertLeaveOut). */
  exposure: ExposureEntity;
  /** The exposure properties not read, sorted (empty: every column). */
  leftOut: readonly string[];
  regime: RegulatoryRegime | null;
  milestone: ObligationMilestone | null;
  dueAt: Date | null;
}
