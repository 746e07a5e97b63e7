/**
 * The ICO draft as a pure function of register facts: each question of the ICO's personal data breach
 * report form (wording and sources in docs/reports.md) answered PREFILLED from the facts, with the facts it
 * came from as its basis, or marked TO_COMPLETE with a hint when the register cannot know the answer. Pure,
 * so the page, the GraphQL field and the tests read the same answers.
 */
import { DataCategory, ExfiltrationStatus, IncidentKind } from '../../common/enums';
import { ClientEntity } from '../client/client.entity';
import { ExposureEntity, NotificationDecisionEntity } from '../exposure/exposure.entity';
import { IncidentEntity } from '../incident/incident.entity';
import { ObligationMilestone, ObligationValue, RegulatoryRegime } from '../obligation/regimes';
import { SupplierEntity } from '../supplier/supplier.entity';
import { IcoAnswer, IcoAnswerStatus } from './report.type';

export interface IcoFacts {
  exposure: ExposureEntity;
  incident: IncidentEntity;
  client: ClientEntity;
  /** The incident's supplier. */
  supplier: SupplierEntity;
  /** The exposure's chain, from the client's own supplier to the incident's supplier. */
  path: SupplierEntity[];
  obligations: ObligationValue[];
  /** Every decision recorded on the exposure, oldest first. */
  decisions: NotificationDecisionEntity[];
}

/** The ICO form's own questions, in its order (docs/reports.md says where each wording was read). */
export const ICO_QUESTIONS = {
  reportType: 'Report type: initial report or follow-up report?',
  whatHappened: 'What has happened?',
  cyber: 'Was the breach caused by a cyber incident?',
  howFound: 'How did you find out about the breach?',
  whenDiscovered: 'When did you discover the breach?',
  whenHappened: 'When did the breach happen?',
  dataCategories: 'Categories of personal data included in the breach',
  records: 'Number of personal data records concerned?',
  subjects: 'How many data subjects could be affected?',
  subjectCategories: 'Categories of data subjects affected',
  consequences: 'Potential consequences of the breach',
  containment: 'What have you done, or will you do, to contain the breach and reduce its effects?',
  processor: 'Was a processor or sub-processor involved? Which ones?',
  toldSubjects: 'Have you told data subjects about the breach?',
  toldOthers: 'Have you told, or are you planning to tell, any other organisations about the breach?',
} as const;

/** The ICO form's tick-boxes for categories of personal data, by the register's categories. */
const ICO_DATA_CATEGORY: Record<DataCategory, string> = {
  [DataCategory.BASIC_IDENTITY]: 'Basic personal identifiers, eg name, contact details',
  [DataCategory.CONTACT]: 'Basic personal identifiers, eg name, contact details',
  [DataCategory.CREDENTIALS]: 'Identification data, eg usernames, passwords',
  [DataCategory.FINANCIAL]: 'Economic and financial data, eg credit card numbers, bank details',
  [DataCategory.GOVERNMENT_ID]: 'Official documents, eg driving licences',
  [DataCategory.LOCATION]: 'Location data',
  [DataCategory.GENETIC]: 'Genetic or biometric data',
  [DataCategory.BIOMETRIC]: 'Genetic or biometric data',
  [DataCategory.HEALTH]: 'Health data',
  [DataCategory.RACIAL_ETHNIC_ORIGIN]: 'Data revealing racial or ethnic origin',
  [DataCategory.POLITICAL_OPINIONS]: 'Political opinions',
  [DataCategory.RELIGIOUS_BELIEFS]: 'Religious or philosophical beliefs',
  [DataCategory.TRADE_UNION]: 'Trade union membership',
  [DataCategory.SEX_LIFE_ORIENTATION]: 'Sex life data; Sexual orientation data',
  [DataCategory.CRIMINAL_OFFENCE]: 'Criminal convictions, offences',
  [DataCategory.EMPLOYMENT]: 'Other: employment data',
  [DataCategory.EDUCATION]: 'Other: education data',
  [DataCategory.CHILDREN]: "Other: children's data",
};

const KIND_WORDS: Record<IncidentKind, string> = {
  [IncidentKind.CYBER_ATTACK]: 'a cyber attack',
  [IncidentKind.RANSOMWARE]: 'a ransomware attack',
  [IncidentKind.MISCONFIGURED_STORAGE]: 'misconfigured storage',
  [IncidentKind.INSIDER]: 'an insider',
  [IncidentKind.SERVICE_OUTAGE]: 'a service outage',
  [IncidentKind.LOST_DEVICE]: 'a lost device',
  [IncidentKind.OTHER]: 'an incident',
};

const EXFILTRATION_WORDS: Record<ExfiltrationStatus, string> = {
  [ExfiltrationStatus.NONE_FOUND]: 'no evidence has been found that data was taken',
  [ExfiltrationStatus.SUSPECTED]: 'data may have been taken',
  [ExfiltrationStatus.CONFIRMED]: 'data was taken',
};

/** A moment as people read it on a form: "2023-03-31 00:00 UTC". */
export function formatInstant(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatCount(n: number | string): string {
  return Number(n).toLocaleString('en-GB');
}

const prefilled = (question: string, answer: string, basis: string): IcoAnswer => ({
  question,
  answer,
  status: IcoAnswerStatus.PREFILLED,
  basis,
});

const toComplete = (question: string, hint: string): IcoAnswer => ({
  question,
  answer: hint,
  status: IcoAnswerStatus.TO_COMPLETE,
  basis: null,
});

/** The decision in force on one obligation: the latest recorded. */
function latestDecision(
  decisions: readonly NotificationDecisionEntity[],
  regime: string,
  milestone: string,
): NotificationDecisionEntity | undefined {
  return [...decisions].reverse().find((d) => d.regime === regime && d.milestone === milestone);
}

export function buildIcoReportDraft(facts: IcoFacts): IcoAnswer[] {
  const { exposure, incident, client, supplier, path, obligations, decisions } = facts;
  const q = ICO_QUESTIONS;
  const chain = path.map((s) => s.name).join(' → ') || supplier.name;
  const ukNotification = latestDecision(
    decisions,
    RegulatoryRegime.UK_GDPR,
    ObligationMilestone.NOTIFICATION,
  );
  const answers: IcoAnswer[] = [];

  answers.push(
    ukNotification?.status === 'REPORTED'
      ? prefilled(
          q.reportType,
          `Follow-up report${ukNotification.reference ? ` (ICO case reference ${ukNotification.reference})` : ''}`,
          `UK GDPR notification decision REPORTED at ${formatInstant(ukNotification.reportedAt ?? ukNotification.decidedAt)}, recorded by ${ukNotification.decidedBySubject}`,
        )
      : prefilled(
          q.reportType,
          'Initial report',
          'No UK GDPR notification decision REPORTED is recorded on this exposure',
        ),
  );

  const directly = path.length <= 1;
  answers.push(
    prefilled(
      q.whatHappened,
      `Our ${directly ? 'processor' : 'supply chain'} ${directly ? supplier.name : `(${chain})`} had ${KIND_WORDS[incident.kind]}: "${incident.title}". ` +
        `It was detected on ${formatInstant(incident.detectedAt)}` +
        (incident.containedAt ? ` and contained on ${formatInstant(incident.containedAt)}` : '') +
        `; so far ${EXFILTRATION_WORDS[incident.exfiltration]}. ` +
        `It reaches us through ${exposure.contractIds.length} of our contract${exposure.contractIds.length === 1 ? '' : 's'} with ${directly ? 'it' : path[0]!.name}.`,
      `Incident "${incident.title}" (kind ${incident.kind}, status ${incident.status}, exfiltration ${incident.exfiltration}, detectedAt, containedAt) at supplier ${supplier.name}; exposure path and contracts`,
    ),
  );

  // Only the kinds that settle it: an insider, an outage or misconfigured storage may or may not be cyber.
  const cyber =
    incident.kind === IncidentKind.CYBER_ATTACK || incident.kind === IncidentKind.RANSOMWARE
      ? 'Yes'
      : incident.kind === IncidentKind.LOST_DEVICE
        ? 'No'
        : null;
  answers.push(
    cyber
      ? prefilled(q.cyber, cyber, `Incident kind ${incident.kind}`)
      : toComplete(
          q.cyber,
          `The register records the incident as ${incident.kind}; ask ${supplier.name} whether it involved a cyber incident (Yes / No / Don't know).`,
        ),
  );

  const toldBySupplier =
    incident.clientsNotifiedAt !== null &&
    exposure.awareAt.getTime() === incident.clientsNotifiedAt.getTime();
  answers.push(
    toldBySupplier
      ? prefilled(
          q.howFound,
          `${supplier.name} told its clients on ${formatInstant(incident.clientsNotifiedAt!)}.`,
          "Incident clientsNotifiedAt, which set this client's awareAt (rule 5)",
        )
      : exposure.awareAt.getTime() === exposure.firstComputedAt.getTime()
        ? prefilled(
            q.howFound,
            `Through our supplier risk register, which alerted us on ${formatInstant(exposure.awareAt)} that we were exposed to the incident at ${supplier.name}.`,
            "Exposure awareAt equals its first computation (the register's alert)",
          )
        : toComplete(
            q.howFound,
            `The register records a notice to you on ${formatInstant(exposure.awareAt)} (recordClientNotice): say who told you and how.`,
          ),
  );

  const discovered = exposure.dataAwareAt ?? exposure.awareAt;
  answers.push(
    prefilled(
      q.whenDiscovered,
      formatInstant(discovered),
      exposure.dataAwareAt
        ? 'Exposure dataAwareAt: when you were first aware personal data of yours was at risk (the 72-hour clock starts here)'
        : 'Exposure awareAt (no personal data has been at risk yet)',
    ),
  );

  answers.push(
    incident.startedAt
      ? prefilled(
          q.whenHappened,
          `From ${formatInstant(incident.startedAt)}${incident.containedAt ? ` until ${formatInstant(incident.containedAt)}` : ' (not yet contained)'}`,
          'Incident startedAt and containedAt, as the supplier reported them',
        )
      : toComplete(
          q.whenHappened,
          `${supplier.name} has not said when it started; it was detected on ${formatInstant(incident.detectedAt)}. Ask the supplier.`,
        ),
  );

  const boxes = [...new Set(exposure.dataCategoriesAtRisk.map((c) => ICO_DATA_CATEGORY[c]))];
  answers.push(
    boxes.length === 0
      ? toComplete(
          q.dataCategories,
          'No personal data of yours is at risk on the register (only the service): check whether this is a personal data breach at all.',
        )
      : prefilled(
          q.dataCategories,
          boxes.join('; ') +
            (incident.dataCategoriesAffected === null
              ? '. The supplier has not yet said which data the incident reached: these are every category your agreements with it cover, so "Not yet known" may be the accurate tick.'
              : ''),
          `Exposure dataCategoriesAtRisk (${exposure.dataCategoriesAtRisk.join(', ')}): your agreements' categories${incident.dataCategoriesAffected === null ? '' : ' that the incident affects'}`,
        ),
  );

  answers.push(
    toComplete(
      q.records,
      'The register holds how many people each agreement covers, not how many records: ask the supplier for the record count.',
    ),
  );

  const low = Number(exposure.dataSubjectsAtRiskLow);
  const high = Number(exposure.dataSubjectsAtRiskHigh);
  answers.push(
    high === 0
      ? toComplete(q.subjects, 'No agreement with personal data at risk: check with the supplier.')
      : prefilled(
          q.subjects,
          low === high
            ? `About ${formatCount(high)}`
            : `Between ${formatCount(low)} and ${formatCount(high)} (the same people may be in several agreements)`,
          `Exposure dataSubjectsAtRiskRange: the largest agreement at risk to the sum over agreements${incident.shareOfDataAffected ? `, scaled by the incident's shareOfDataAffected ${incident.shareOfDataAffected}` : ''}`,
        ),
  );

  const children = exposure.dataCategoriesAtRisk.includes(DataCategory.CHILDREN);
  const employment = exposure.dataCategoriesAtRisk.includes(DataCategory.EMPLOYMENT);
  answers.push(
    toComplete(
      q.subjectCategories,
      'The register does not record whose data it is (employees, customers, patients, students...): take it from the contracts' +
        (children ? "; the agreements include children's data, so tick Children" : '') +
        (employment ? '; they include employment data, so Employees is likely' : '') +
        '.',
    ),
  );

  const withEffects = [...decisions].reverse().find((d) => d.effects?.trim());
  answers.push(
    withEffects
      ? prefilled(
          q.consequences,
          withEffects.effects!,
          `Effects recorded with the ${withEffects.regime} ${withEffects.milestone} decision of ${formatInstant(withEffects.decidedAt)} by ${withEffects.decidedBySubject}`,
        )
      : toComplete(
          q.consequences,
          `Describe the likely consequences for the people. The register scores this exposure ${exposure.score} (${exposure.level})` +
            (exposure.specialCategoryData ? ', with special category data at risk' : '') +
            `; ${EXFILTRATION_WORDS[incident.exfiltration]}.`,
        ),
  );

  const withRemedy = [...decisions].reverse().find((d) => d.remedialAction?.trim());
  const containment = [
    incident.containedAt
      ? `${supplier.name} contained the incident on ${formatInstant(incident.containedAt)}.`
      : '',
    withRemedy?.remedialAction ?? '',
  ]
    .filter(Boolean)
    .join(' ');
  answers.push(
    containment
      ? prefilled(
          q.containment,
          containment,
          [
            incident.containedAt ? 'Incident containedAt' : '',
            withRemedy
              ? `remedial action recorded with the ${withRemedy.regime} ${withRemedy.milestone} decision of ${formatInstant(withRemedy.decidedAt)}`
              : '',
          ]
            .filter(Boolean)
            .join('; '),
        )
      : toComplete(
          q.containment,
          `The register records no containment yet (incident status ${incident.status}): ask ${supplier.name}, and say what you have done yourselves.`,
        ),
  );

  answers.push(
    prefilled(
      q.processor,
      directly
        ? `Yes: ${supplier.name}, our processor${supplier.companyNumber ? ` (company number ${supplier.companyNumber})` : ''}.`
        : `Yes: ${path[0]!.name} is our processor; the incident was at ${supplier.name}, reached through the chain ${chain}.`,
      'Exposure path (the shortest chain from your own supplier to the incident) and the suppliers on it',
    ),
  );

  const subjectsDecision = latestDecision(
    decisions,
    RegulatoryRegime.UK_GDPR,
    ObligationMilestone.DATA_SUBJECTS,
  );
  const subjectsObligation = obligations.find(
    (o) => o.regime === RegulatoryRegime.UK_GDPR && o.milestone === ObligationMilestone.DATA_SUBJECTS,
  );
  answers.push(
    subjectsDecision?.status === 'REPORTED'
      ? prefilled(
          q.toldSubjects,
          `Yes, on ${formatInstant(subjectsDecision.reportedAt ?? subjectsDecision.decidedAt)}.`,
          `UK GDPR DATA_SUBJECTS decision REPORTED, recorded by ${subjectsDecision.decidedBySubject}`,
        )
      : subjectsDecision?.status === 'NOT_REQUIRED'
        ? prefilled(
            q.toldSubjects,
            `No: ${subjectsDecision.justification ?? 'judged not required'}`,
            `UK GDPR DATA_SUBJECTS decision NOT_REQUIRED of ${formatInstant(subjectsDecision.decidedAt)}`,
          )
        : toComplete(
            q.toldSubjects,
            subjectsObligation
              ? `Not recorded. Telling the people (UK GDPR Art. 34) is ${subjectsObligation.status}` +
                  (subjectsObligation.status === 'NOT_STARTED'
                    ? ': the register has not judged the risk to them high'
                    : ', without undue delay') +
                  '. Say whether you have told them or plan to.'
              : 'Not recorded: say whether you have told the people or plan to.',
          ),
  );

  const others = obligations.filter((o) => o.regime !== RegulatoryRegime.UK_GDPR);
  answers.push(
    others.length
      ? prefilled(
          q.toldOthers,
          others
            .map(
              (o) =>
                `${o.regime} ${o.milestone}: ${o.status}${o.dueAt ? ` (due ${formatInstant(o.dueAt)})` : ''}`,
            )
            .join('; ') + '. Add the police, the NCSC, insurers or others you have told.',
          `Exposure obligations under ${client.name}'s other regimes and their recorded decisions`,
        )
      : toComplete(
          q.toldOthers,
          `${client.name} is under no other regime the register tracks: add any others told (the police, the NCSC, Action Fraud, insurers, other controllers).`,
        ),
  );
  return answers;
}
