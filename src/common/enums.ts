import { registerEnumType } from 'type-graphql';

export enum SupplierTier {
  STRATEGIC = 'STRATEGIC',
  CRITICAL = 'CRITICAL',
  IMPORTANT = 'IMPORTANT',
  STANDARD = 'STANDARD',
}
registerEnumType(SupplierTier, {
  name: 'SupplierTier',
  description: 'How much the register depends on a supplier, from the most to the least.',
  valuesConfig: {
    STRATEGIC: { description: 'A strategic supplier: many clients, large contracts, hard to replace.' },
    CRITICAL: { description: 'Its failure would stop critical services of its clients.' },
    IMPORTANT: { description: 'Its failure would degrade important services.' },
    STANDARD: { description: 'Ordinary supplier.' },
  },
});

export enum ClientSector {
  CENTRAL_GOVERNMENT = 'CENTRAL_GOVERNMENT',
  LOCAL_GOVERNMENT = 'LOCAL_GOVERNMENT',
  HEALTH = 'HEALTH',
  EDUCATION = 'EDUCATION',
  DEFENCE = 'DEFENCE',
  FINANCIAL_SERVICES = 'FINANCIAL_SERVICES',
  PRIVATE = 'PRIVATE',
  OTHER = 'OTHER',
}
registerEnumType(ClientSector, {
  name: 'ClientSector',
  description: 'The sector a client organisation belongs to.',
  valuesConfig: {
    CENTRAL_GOVERNMENT: { description: 'A government department or central agency.' },
    LOCAL_GOVERNMENT: { description: 'A council or other local authority.' },
    HEALTH: { description: 'An NHS body or other health organisation.' },
    EDUCATION: { description: 'A school, university or education body.' },
    DEFENCE: { description: 'Armed forces or defence organisation.' },
    FINANCIAL_SERVICES: { description: 'A bank, insurer, pension scheme or other financial firm.' },
    PRIVATE: { description: 'Any other private company.' },
    OTHER: { description: 'None of the above.' },
  },
});

export enum ServiceCriticality {
  CRITICAL = 'CRITICAL',
  IMPORTANT = 'IMPORTANT',
  STANDARD = 'STANDARD',
}
registerEnumType(ServiceCriticality, {
  name: 'ServiceCriticality',
  description: 'How critical the contracted service is to the client.',
  valuesConfig: {
    CRITICAL: { description: 'Losing it stops services to the public or breaks a legal duty.' },
    IMPORTANT: { description: 'Losing it degrades services noticeably.' },
    STANDARD: { description: 'Losing it is an inconvenience.' },
  },
});

export enum DataCategory {
  BASIC_IDENTITY = 'BASIC_IDENTITY',
  CONTACT = 'CONTACT',
  FINANCIAL = 'FINANCIAL',
  GOVERNMENT_ID = 'GOVERNMENT_ID',
  EMPLOYMENT = 'EMPLOYMENT',
  EDUCATION = 'EDUCATION',
  LOCATION = 'LOCATION',
  CREDENTIALS = 'CREDENTIALS',
  CHILDREN = 'CHILDREN',
  HEALTH = 'HEALTH',
  GENETIC = 'GENETIC',
  BIOMETRIC = 'BIOMETRIC',
  RACIAL_ETHNIC_ORIGIN = 'RACIAL_ETHNIC_ORIGIN',
  POLITICAL_OPINIONS = 'POLITICAL_OPINIONS',
  RELIGIOUS_BELIEFS = 'RELIGIOUS_BELIEFS',
  TRADE_UNION = 'TRADE_UNION',
  SEX_LIFE_ORIENTATION = 'SEX_LIFE_ORIENTATION',
  CRIMINAL_OFFENCE = 'CRIMINAL_OFFENCE',
}
registerEnumType(DataCategory, {
  name: 'DataCategory',
  description:
    'A category of personal data. Special category data (UK GDPR Art. 9) is marked as such; CRIMINAL_OFFENCE is Art. 10 data.',
  valuesConfig: {
    BASIC_IDENTITY: { description: 'Names, dates of birth and other basic identity data.' },
    CONTACT: { description: 'Addresses, e-mail addresses, telephone numbers.' },
    FINANCIAL: { description: 'Bank details, payments, benefits, income.' },
    GOVERNMENT_ID: { description: 'National Insurance numbers, passport or driving licence numbers.' },
    EMPLOYMENT: { description: 'Employment and HR records.' },
    EDUCATION: { description: 'Education records and results.' },
    LOCATION: { description: 'Location data.' },
    CREDENTIALS: { description: 'Passwords and other authentication secrets.' },
    CHILDREN: { description: "Children's personal data." },
    HEALTH: { description: 'Health data (special category, Art. 9).' },
    GENETIC: { description: 'Genetic data (special category, Art. 9).' },
    BIOMETRIC: { description: 'Biometric data used for identification (special category, Art. 9).' },
    RACIAL_ETHNIC_ORIGIN: { description: 'Racial or ethnic origin (special category, Art. 9).' },
    POLITICAL_OPINIONS: { description: 'Political opinions (special category, Art. 9).' },
    RELIGIOUS_BELIEFS: { description: 'Religious or philosophical beliefs (special category, Art. 9).' },
    TRADE_UNION: { description: 'Trade union membership (special category, Art. 9).' },
    SEX_LIFE_ORIENTATION: { description: 'Sex life or sexual orientation (special category, Art. 9).' },
    CRIMINAL_OFFENCE: { description: 'Criminal convictions and offences (Art. 10).' },
  },
});

/** UK GDPR Art. 9 special categories. */
export const SPECIAL_CATEGORIES: readonly DataCategory[] = [
  DataCategory.RACIAL_ETHNIC_ORIGIN,
  DataCategory.POLITICAL_OPINIONS,
  DataCategory.RELIGIOUS_BELIEFS,
  DataCategory.TRADE_UNION,
  DataCategory.GENETIC,
  DataCategory.BIOMETRIC,
  DataCategory.HEALTH,
  DataCategory.SEX_LIFE_ORIENTATION,
];

export enum IncidentKind {
  CYBER_ATTACK = 'CYBER_ATTACK',
  RANSOMWARE = 'RANSOMWARE',
  MISCONFIGURED_STORAGE = 'MISCONFIGURED_STORAGE',
  INSIDER = 'INSIDER',
  SERVICE_OUTAGE = 'SERVICE_OUTAGE',
  LOST_DEVICE = 'LOST_DEVICE',
  OTHER = 'OTHER',
}
registerEnumType(IncidentKind, {
  name: 'IncidentKind',
  description: 'What kind of incident happened at the supplier.',
  valuesConfig: {
    CYBER_ATTACK: { description: 'Unauthorised access by an attacker.' },
    RANSOMWARE: { description: 'Ransomware: data encrypted and often stolen.' },
    MISCONFIGURED_STORAGE: { description: 'Data left readable, for example a public storage bucket.' },
    INSIDER: { description: 'Misuse by someone with legitimate access.' },
    SERVICE_OUTAGE: { description: 'Loss of service without known data access.' },
    LOST_DEVICE: { description: 'A lost or stolen device or paper record.' },
    OTHER: { description: 'Anything else.' },
  },
});

export enum IncidentStatus {
  SUSPECTED = 'SUSPECTED',
  CONFIRMED = 'CONFIRMED',
  CONTAINED = 'CONTAINED',
  CLOSED = 'CLOSED',
}
registerEnumType(IncidentStatus, {
  name: 'IncidentStatus',
  description: 'Where an incident stands.',
  valuesConfig: {
    SUSPECTED: { description: 'Reported but not yet confirmed.' },
    CONFIRMED: { description: 'Confirmed by the supplier.' },
    CONTAINED: { description: 'The attacker or leak has been shut out.' },
    CLOSED: {
      description:
        'Investigation finished; exposures are no longer recomputed. Setting another status reopens it and recomputes them.',
    },
  },
});

export enum ExfiltrationStatus {
  NONE_FOUND = 'NONE_FOUND',
  SUSPECTED = 'SUSPECTED',
  CONFIRMED = 'CONFIRMED',
}
registerEnumType(ExfiltrationStatus, {
  name: 'ExfiltrationStatus',
  description: 'Whether data was taken out of the supplier.',
  valuesConfig: {
    NONE_FOUND: { description: 'No evidence that data left the supplier.' },
    SUSPECTED: { description: 'Data may have been taken.' },
    CONFIRMED: { description: 'Data was taken.' },
  },
});

/** Postgres CHECK helper: the SQL list of an enum's values. */
export function sqlValues(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}
