import { UserError, UserInputProblem, userErrorFromDatabase } from './user-error';

export type ConstraintMessages = Parameters<typeof userErrorFromDatabase>[1];

/**
 * Runs a mutation's work and turns expected failures into userErrors: a UserInputProblem thrown
 * inside the transaction (which rolls it back), or a database constraint that caught bad input.
 * Anything else is a fault and propagates as a top-level error.
 */
export async function asPayload<T>(work: () => Promise<T>, constraints: ConstraintMessages = {}): Promise<{ result: T | null; userErrors: UserError[] }> {
  try {
    return { result: await work(), userErrors: [] };
  } catch (error) {
    if (error instanceof UserInputProblem) return { result: null, userErrors: error.errors };
    const fromDatabase = userErrorFromDatabase(error, constraints);
    if (fromDatabase) return { result: null, userErrors: [fromDatabase] };
    throw error;
  }
}
