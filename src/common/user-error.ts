import { Field, ObjectType, registerEnumType } from 'type-graphql';

/** Every code a mutation can return in userErrors, in one place. */
export enum UserErrorCode {
  INVALID = 'INVALID',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  FORBIDDEN = 'FORBIDDEN',
}
registerEnumType(UserErrorCode, {
  name: 'UserErrorCode',
  description: 'Why a mutation refused its input. (UserError.code carries one of these names as a string.)',
  valuesConfig: {
    INVALID: { description: 'A value is malformed or breaks a rule (format, range, order of dates).' },
    NOT_FOUND: { description: 'An ID does not name an object you may see.' },
    CONFLICT: {
      description: 'The change clashes with existing data (duplicate reference, object still in use).',
    },
    FORBIDDEN: { description: 'You may not make this change to this object.' },
  },
});

const USER_ERROR_CODES = Object.values(UserErrorCode);

@ObjectType({
  simpleResolvers: true,
  description: 'A problem with the input of a mutation. Nothing was written.',
})
export class UserError {
  @Field(() => [String], {
    nullable: true,
    description: 'Path to the offending input field, e.g. ["input", "endsOn"].',
  })
  field: string[] | null;

  @Field({ description: 'What is wrong, in words for a person.' })
  message: string;

  // A String, as the contract says, whose values are exactly UserErrorCode's.
  @Field({
    description: `Machine-readable code: ${USER_ERROR_CODES.slice(0, -1).join(', ')} or ${USER_ERROR_CODES.at(-1)}.`,
  })
  code: UserErrorCode;
}

export function userError(field: string[] | null, code: UserErrorCode, message: string): UserError {
  return Object.assign(new UserError(), { field, code, message });
}

/** Thrown inside a service's transaction to roll it back and answer with userErrors. */
export class UserInputProblem extends Error {
  constructor(public readonly errors: UserError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

/** Maps database constraint violations to user errors, so a rule enforced only in SQL still answers clearly. */
export function userErrorFromDatabase(
  error: unknown,
  fieldsByConstraint: Record<string, { field: string[]; message: string; code?: UserErrorCode }>,
): UserError | null {
  const pg =
    (error as { driverError?: { code?: string; constraint?: string } }).driverError ??
    (error as { code?: string; constraint?: string });
  if (!pg || typeof pg !== 'object') return null;
  const known = pg.constraint ? fieldsByConstraint[pg.constraint] : undefined;
  if (known)
    return userError(
      known.field,
      known.code ?? (pg.code === '23505' ? UserErrorCode.CONFLICT : UserErrorCode.INVALID),
      known.message,
    );
  if (pg.code === '23505')
    return userError(null, UserErrorCode.CONFLICT, 'This would duplicate an existing record.');
  if (pg.code === '23503')
    return userError(null, UserErrorCode.CONFLICT, 'The record is still referenced by other records.');
  if (pg.code === '23514')
    return userError(null, UserErrorCode.INVALID, 'A value breaks a rule of the register.');
  return null;
}
