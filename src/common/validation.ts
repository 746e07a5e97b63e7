import { ValidationError, validate, registerDecorator, ValidationOptions } from 'class-validator';
import { UserError, UserErrorCode, UserInputProblem, userError } from './user-error';

/** class-validator failures as userErrors with a path into the input, e.g. ["input", "lei"]. */
export async function validateInput(input: object, root = 'input'): Promise<UserError[]> {
  const failures = await validate(input, { forbidUnknownValues: false });
  const errors: UserError[] = [];
  const walk = (list: ValidationError[], path: string[]) => {
    for (const failure of list) {
      const here = [...path, failure.property];
      for (const message of Object.values(failure.constraints ?? {})) errors.push(userError(here, UserErrorCode.INVALID, message));
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
      options: { message: 'lei must be a 20-character ISO 17442 Legal Entity Identifier with valid check digits', ...options },
      validator: { validate: (value: unknown) => value === null || value === undefined || isValidLei(value) },
    });
}

/** Validates an input and throws its failures as userErrors (nothing is written). */
export async function assertValid(input: object, root = 'input'): Promise<void> {
  const problems = await validateInput(input, root);
  if (problems.length) throw new UserInputProblem(problems);
}
