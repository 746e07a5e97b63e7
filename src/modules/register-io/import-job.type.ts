import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ImportJobStatus {
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  REFUSED = 'REFUSED',
  FAILED = 'FAILED',
}
registerEnumType(ImportJobStatus, {
  name: 'ImportJobStatus',
  description: 'Where an import job stands.',
  valuesConfig: {
    RUNNING: { description: 'Reading, checking or writing the file.' },
    SUCCEEDED: { description: 'Finished: applied (or, for a dry run, valid); the report says what changed.' },
    REFUSED: { description: 'Finished with problems: nothing was written; the report lists them.' },
    FAILED: {
      description: 'Stopped by a fault (or its instance stopped); nothing was written. `error` says why.',
    },
  },
});

@ObjectType({
  simpleResolvers: true,
  description: 'What one sheet of an import creates, updates, leaves and removes.',
})
export class ImportSheetCounts {
  @Field({ description: 'The sheet: suppliers, clients, contracts, agreements or subprocessors.' })
  sheet: string;

  @Field(() => Int, { description: 'Rows new to the register.' })
  created: number;

  @Field(() => Int, { description: 'Rows of the register the file changes.' })
  updated: number;

  @Field(() => Int, { description: 'Rows the file states as the register already has them.' })
  unchanged: number;

  @Field(() => Int, { description: 'Rows of the register not in the file that mode=replace removes.' })
  removed: number;
}

@ObjectType({ simpleResolvers: true, description: 'One thing wrong with an imported file, and what to fix.' })
export class ImportProblem {
  @Field(() => String, { nullable: true, description: 'The sheet; null for the file as a whole.' })
  sheet: string | null;

  @Field(() => Int, { nullable: true, description: 'The row number in the sheet (the header is row 1).' })
  row: number | null;

  @Field(() => String, { nullable: true, description: 'The column.' })
  column: string | null;

  @Field(() => String, { nullable: true, description: 'The value found, as text.' })
  value: string | null;

  @Field({ description: 'What is wrong and what to do.' })
  message: string;
}

@ObjectType({ simpleResolvers: true, description: 'A row mode=replace removes, by its natural key.' })
export class ImportRemoval {
  @Field({ description: 'The sheet the row belongs to.' })
  sheet: string;

  @Field({
    description: 'Its natural key: company number, reference, client / contract / agreement references.',
  })
  key: string;
}

@ObjectType({
  simpleResolvers: true,
  description: 'The answer of an import: the same as POST /imports answers.',
})
export class ImportReport {
  @Field({ description: 'True when nothing was to be written.' })
  dryRun: boolean;

  @Field({ description: 'True when the file was written.' })
  applied: boolean;

  @Field(() => [ImportSheetCounts], {
    description: 'Per sheet, in the order suppliers, clients, contracts, agreements, subprocessors.',
  })
  counts: ImportSheetCounts[];

  @Field(() => [ImportProblem], { description: 'Every problem found; empty when the file is valid.' })
  problems: ImportProblem[];

  @Field(() => [ImportRemoval], { description: 'What mode=replace removes (or would remove, in a dry run).' })
  removed: ImportRemoval[];
}

@ObjectType({
  simpleResolvers: true,
  description: 'An import of a large file, run after POST /imports answered 202.',
})
export class ImportJob {
  @Field(() => ID, { description: 'The jobId POST /imports answered.' })
  id: string;

  @Field(() => ImportJobStatus, { description: 'Where it stands.' })
  status: ImportJobStatus;

  @Field({ description: "The file's name, as sent in content-disposition." })
  fileName: string;

  @Field({ description: 'A dry run writes nothing.' })
  dryRun: boolean;

  @Field({ description: 'merge (rows missing from the file stay) or replace (they are removed).' })
  mode: string;

  @Field(() => Int, { description: 'Rows checked (dry run) or written so far.' })
  rowsDone: number;

  @Field(() => Int, { nullable: true, description: 'Rows to check or write, once the file is read.' })
  rowsTotal: number | null;

  @Field({ description: 'When it was started.' })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When it finished.' })
  finishedAt: Date | null;

  @Field(() => ImportReport, { nullable: true, description: 'The report, once finished (not for FAILED).' })
  report: ImportReport | null;

  @Field(() => String, { nullable: true, description: 'Why a FAILED job failed.' })
  error: string | null;
}
