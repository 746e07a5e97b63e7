import { Field, ObjectType, registerEnumType } from 'type-graphql';

export enum IcoAnswerStatus {
  PREFILLED = 'PREFILLED',
  TO_COMPLETE = 'TO_COMPLETE',
}

registerEnumType(IcoAnswerStatus, {
  name: 'IcoAnswerStatus',
  description: 'Whether the register could answer a question of the ICO breach report form.',
  valuesConfig: {
    PREFILLED: { description: 'Answered from register facts (basis says which); check it before sending.' },
    TO_COMPLETE: {
      description: 'The register cannot know this: answer says what to find out (a hint), or is null.',
    },
  },
});

@ObjectType({
  simpleResolvers: true,
  description: "One question of the ICO's personal data breach report form, with a draft answer.",
})
export class IcoAnswer {
  @Field({ description: "The form's question (docs/reports.md cites where each wording comes from)." })
  question: string;

  @Field(() => String, {
    nullable: true,
    description: 'PREFILLED: the draft answer. TO_COMPLETE: a hint of what to find out and where.',
  })
  answer: string | null;

  @Field(() => IcoAnswerStatus, { description: 'Whether the register answered it.' })
  status: IcoAnswerStatus;

  @Field(() => String, {
    nullable: true,
    description: 'The register facts a PREFILLED answer came from (record and field); null for TO_COMPLETE.',
  })
  basis: string | null;
}

@ObjectType({
  simpleResolvers: true,
  description:
    "A draft of the ICO's personal data breach report for one exposure, question by question, for copying into the ICO's form (also printable at /exposures/<id>/ico-report). A draft: the client's DPO checks and completes it.",
})
export class IcoReportDraft {
  @Field(() => [IcoAnswer], { description: "The form's questions in its order." })
  answers: IcoAnswer[];
}
