import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { createSchema } from '../schema';

/**
 * Writes the SDL built from the code to schema/schema.graphql (`npm run schema:emit`).
 * The file is committed; test/schema/schema.test.ts fails when it drifts from the code.
 */

export const SCHEMA_HEADER =
  '# Generated from the code by `npm run schema:emit` (src/scripts/emit-schema.ts). Do not edit by hand.\n\n';

/**
 * The SDL of a schema, sorted by name (types, fields, arguments, enum values) so the file does not
 * change with the order in which modules happen to register their decorators.
 */
export function schemaSdl(schema: GraphQLSchema): string {
  return `${SCHEMA_HEADER}${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** The repository root: the nearest folder with a package.json, from src/scripts or dist/src/scripts alike. */
export function repositoryRoot(from: string = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export const SCHEMA_FILE = path.join('schema', 'schema.graphql');

export async function main(): Promise<string> {
  const target = path.join(repositoryRoot(), SCHEMA_FILE);
  const sdl = schemaSdl(await createSchema());
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, sdl, 'utf8');
  return target;
}

if (require.main === module) {
  main()
    .then((target) => process.stdout.write(`Schema written to ${target}\n`))
    .catch((error) => {
      process.stderr.write(
        `Could not emit the schema: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    });
}
