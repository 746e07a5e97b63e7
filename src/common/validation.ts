import { GraphQLError } from 'graphql';
import {
  MaxLength,
  ValidationError,
  validate,
  validateSync,
  registerDecorator,
  ValidationOptions,
} from 'class-validator';
import { UserError, UserErrorCode, UserInputProblem, userError } from './user-error';
import { ErrorCode } from './error-code';

/** class-validator failures as userErrors with a path into the input, e.g. ["input", "lei"]. */
export async function validateInput(input: object, root = 'input'): Promise<UserError[]> {
  const failures = await validate(input, { forbidUnknownValues: false });
  const errors: UserError[] = [];
  const walk = (list: ValidationError[], path: string[]) => {
    for (const failure of list) {
      const here = [...path, failure.property];
      for (const message of Object.values(failure.constraints ?? {}))
        errors.push(userError(here, UserErrorCode.INVALID, message));
      walk(failure.children ?? [], here);
    }
  };
  walk(failures, [root]);
  return errors;
}

/** ISO 17442 LEI: 18 alphanumerics and 2 check digits satisfying ISO 7064 MOD 97-10. */
export function isValidLei(value: unknown): boolean {
  if (typeof value !== 'string' || !/^[A-Z0-9]{18}[0-9]{2}$/.test(value)) return false;
  let remainder = 0;
  for (const char of value) {
    const digits = /[0-9]/.test(char) ? char : String(char.charCodeAt(0) - 55);
    for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

export function IsLei(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isLei',
      target: object.constructor,
      propertyName,
      options: {
        message: 'lei must be a 20-character ISO 17442 Legal Entity Identifier with valid check digits',
        ...options,
      },
      validator: { validate: (value: unknown) => value === null || value === undefined || isValidLei(value) },
    });
}

/** Validates an input and throws its failures as userErrors (nothing is written). */
export async function assertValid(input: object, root = 'input'): Promise<void> {
  const problems = await validateInput(input, root);
  if (problems.length) throw new UserInputProblem(problems);
}

/** The longest text or ID a list filter takes: a search runs ILIKE over every row, so its length is bounded. */
export const FILTER_TEXT_MAX_LENGTH = 200;

export function MaxFilterLength(): PropertyDecorator {
  return MaxLength(FILTER_TEXT_MAX_LENGTH, {
    message: `$property must be at most ${FILTER_TEXT_MAX_LENGTH} characters long`,
  });
}

/**
 * Checks a list's filter against its class's rules (lengths); a failure is a BAD_USER_INPUT error naming
 * the field, e.g. "filter.search must be at most 200 characters long". Queries have no userErrors.
 */
export function assertValidFilter<T extends object>(
  type: new () => T,
  filter: T | null | undefined,
  argumentName = 'filter',
): void {
  if (!filter) return;
  const failures = validateSync(filter instanceof type ? filter : Object.assign(new type(), filter), {
    forbidUnknownValues: false,
  });
  if (!failures.length) return;
  const messages = failures.flatMap((failure) =>
    Object.values(failure.constraints ?? {}).map((message) => `${argumentName}.${message}`),
  );
  throw new GraphQLError(messages.join('; '), {
    extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName },
  });
}
