import {
  ClientSector,
  DataCategory,
  ExfiltrationStatus,
  IncidentKind,
  IncidentStatus,
  ServiceCriticality,
  SupplierTier,
} from '../common/enums';
import { RegulatoryRegime } from '../modules/obligation/regimes';

/**
 * The demo register: the Capita incidents of 2023, told with public figures.
 *
 * What is public and what is not:
 * - PUBLIC: Capita plc's company number; the contract values named in docs/domain (DWP £550m, DfE £107m,
 *   military training £45m); the attack window (access from about 22 March, interrupted 31 March,
 *   announced 3 April 2023, about 4% of the server estate); Capita's 20 April 2023 update (evidence that
 *   limited data was exfiltrated from less than 0.1% of its servers); the councils that said publicly in
 *   May 2023 that their benefits data sat in an unsecured AWS bucket controlled by Capita (Colchester,
 *   Coventry, Rochford, South Staffordshire among them; Colchester: names, addresses, benefit account
 *   references and benefits received for 2019/20 and 2020/21, no bank details; Rochford: 93 residents);
 *   USS's statement that data of about 470,000 members may have been taken.
 * - ESTIMATE: every dataSubjectCount, most contract dates, and the values marked so below. They are
 *   plausible orders of magnitude for a demo, not figures from the contracts.
 * - ILLUSTRATIVE: the Barnet exit dates, the Harrow contract, the narrowed list of affected categories
 *   of the March attack, and everything about "Example Colocation Ltd (fictional)". They exist to show a
 *   rule of the register (retention after exit, a window that does not overlap, an incident that
 *   narrows, a supplier-level sub-processor chain), and say so in their names or titles where users see them.
 *
 * Identifiers: only Capita's Companies House number (02081330) is filled in. No LEI is given for anyone:
 * none could be verified here, and a wrong LEI in a register is worse than none.
 */

export type SupplierKey = 'capita' | 'aws' | 'colocation' | 'atos' | 'serco';
export type ClientKey =
  | 'dwp'
  | 'dfe'
  | 'mod'
  | 'homeOffice'
  | 'nhsEngland'
  | 'uss'
  | 'colchester'
  | 'coventry'
  | 'rochford'
  | 'southStaffordshire'
  | 'barnet'
  | 'harrow'
  | 'euFund';

export interface DemoSupplier {
  name: string;
  companyNumber: string | null;
  lei: string | null;
  country: string;
  tier: SupplierTier;
  strategic: boolean;
}

export interface DemoClient {
  name: string;
  sector: ClientSector;
  /** ISO 3166-1 alpha-2; default GB. */
  country?: string;
  /** Set explicitly; default: from sector and country (docs/regulatory-clocks.md). */
  regimes?: RegulatoryRegime[];
  /** Councils: their ONS (GSS) area code; NHS England: its ODS code; departments and USS: their usual abbreviation. */
  reference: string;
}

export interface DemoAgreement {
  reference: string;
  dataCategories: DataCategory[];
  dataSubjectCount: number;
  processingLocations: string[];
  dataRetainedUntil: string | null;
  /** Agreement-level sub-processors: cover this agreement's data only. */
  subprocessors: SupplierKey[];
}

export interface DemoContract {
  client: ClientKey;
  supplier: SupplierKey;
  reference: string;
  title: string;
  value: { amount: string; currency: string } | null;
  startsOn: string;
  endsOn: string | null;
  criticality: ServiceCriticality;
  agreements: DemoAgreement[];
}

export interface DemoIncidentFacts {
  title: string;
  kind: IncidentKind;
  status: IncidentStatus;
  startedAt: Date | null;
  detectedAt: Date;
  containedAt: Date | null;
  clientsNotifiedAt: Date | null;
  dataCategoriesAffected: DataCategory[] | null;
  exfiltration: ExfiltrationStatus;
}

/** New facts about an incident, applied in order after it is recorded: the register shows the evolution as revisions. */
export interface DemoIncidentUpdate {
  /** Shown in the start-up progress lines. */
  label: string;
  changes: Partial<Omit<DemoIncidentFacts, 'kind'>>;
}

/** A client told of an incident by someone other than the incident's supplier (rule 5: its own notice). */
export interface DemoClientNotice {
  client: ClientKey;
  noticeAt: Date;
  channel: string;
}

export interface DemoIncident {
  supplier: SupplierKey;
  facts: DemoIncidentFacts;
  updates: DemoIncidentUpdate[];
  /** Notices to indirect clients (the supplier's clientsNotifiedAt reaches its direct clients only). */
  clientNotices?: DemoClientNotice[];
}

export const DEMO_SUPPLIERS: Record<SupplierKey, DemoSupplier> = {
  capita: {
    name: 'Capita plc',
    companyNumber: '02081330',
    lei: null,
    country: 'GB',
    tier: SupplierTier.STRATEGIC,
    strategic: true,
  },
  // The storage behind the May 2023 bucket. Luxembourg entity, so no Companies House number. strategic stays
  // false: the demo does not assert anything about AWS and the Cabinet Office list.
  aws: {
    name: 'Amazon Web Services EMEA SARL',
    companyNumber: null,
    lei: null,
    country: 'LU',
    tier: SupplierTier.CRITICAL,
    strategic: false,
  },
  // FICTIONAL: a data-centre provider Capita relies on for all its processing (a supplier-level link), to
  // show how an incident at the bottom of a chain reaches every client of the supplier above it.
  colocation: {
    name: 'Example Colocation Ltd (fictional)',
    companyNumber: null,
    lei: null,
    country: 'GB',
    tier: SupplierTier.IMPORTANT,
    strategic: false,
  },
  // Contrast: strategic suppliers with contracts of similar sensitivity and no incident in the demo.
  atos: {
    name: 'Atos IT Services UK Limited',
    companyNumber: null,
    lei: null,
    country: 'GB',
    tier: SupplierTier.STRATEGIC,
    strategic: true,
  },
  serco: {
    name: 'Serco Limited',
    companyNumber: null,
    lei: null,
    country: 'GB',
    tier: SupplierTier.STRATEGIC,
    strategic: true,
  },
};

/** Capita relies on the (fictional) colocation provider for all the data it holds. */
export const DEMO_SUPPLIER_LINKS: [SupplierKey, SupplierKey][] = [['capita', 'colocation']];

export const DEMO_CLIENTS: Record<ClientKey, DemoClient> = {
  dwp: {
    name: 'Department for Work and Pensions',
    sector: ClientSector.CENTRAL_GOVERNMENT,
    reference: 'DWP',
  },
  dfe: { name: 'Department for Education', sector: ClientSector.CENTRAL_GOVERNMENT, reference: 'DFE' },
  mod: { name: 'Ministry of Defence', sector: ClientSector.DEFENCE, reference: 'MOD' },
  homeOffice: { name: 'Home Office', sector: ClientSector.CENTRAL_GOVERNMENT, reference: 'HO' },
  nhsEngland: { name: 'NHS England', sector: ClientSector.HEALTH, reference: 'X24' },
  // A pension scheme. In 2023 the Pensions Regulator told schemes using Capita to check whether their members'
  // data was affected: the trustees' clock is UK GDPR's (Art. 33 to the ICO, Art. 34 to members at high risk),
  // the Regulator's statement is context, not a clock of its own (no such regime here).
  uss: {
    name: 'Universities Superannuation Scheme',
    sector: ClientSector.FINANCIAL_SERVICES,
    reference: 'USS',
  },
  colchester: {
    name: 'Colchester City Council',
    sector: ClientSector.LOCAL_GOVERNMENT,
    reference: 'E07000071',
  },
  coventry: { name: 'Coventry City Council', sector: ClientSector.LOCAL_GOVERNMENT, reference: 'E08000026' },
  rochford: {
    name: 'Rochford District Council',
    sector: ClientSector.LOCAL_GOVERNMENT,
    reference: 'E07000075',
  },
  southStaffordshire: {
    name: 'South Staffordshire Council',
    sector: ClientSector.LOCAL_GOVERNMENT,
    reference: 'E07000196',
  },
  barnet: { name: 'London Borough of Barnet', sector: ClientSector.LOCAL_GOVERNMENT, reference: 'E09000003' },
  harrow: { name: 'London Borough of Harrow', sector: ClientSector.LOCAL_GOVERNMENT, reference: 'E09000015' },
  // ILLUSTRATIVE, not a real Capita client: an EU financial entity, so the demo shows other regulators'
  // clocks beside UK GDPR's. Established in Ireland: EU GDPR (Art. 3(1)) and DORA by default. DORA applied from
  // 17 January 2025, so the 2023 attack starts no DORA clock (NOT_STARTED) while EU GDPR's 72 h runs.
  euFund: {
    name: 'Example Pensions Administration Ireland DAC (illustrative, not a Capita client)',
    sector: ClientSector.FINANCIAL_SERVICES,
    country: 'IE',
    reference: 'ILLUSTRATIVE-IE-1',
  },
};

/** The client whose token start-up prints: exposed to both 2023 incidents (directly, and through the bucket). */
export const DEMO_SAMPLE_CLIENT: ClientKey = 'colchester';

const gbp = (amount: string) => ({ amount, currency: 'GBP' });

/** Council revenues and benefits data: what the May 2023 bucket held, plus National Insurance numbers. */
const BENEFITS_DATA = [
  DataCategory.BASIC_IDENTITY,
  DataCategory.CONTACT,
  DataCategory.FINANCIAL,
  DataCategory.GOVERNMENT_ID,
];

/** A council revenues and benefits contract with Capita, whose agreement authorises the cloud storage. */
function councilBenefits(
  client: ClientKey,
  code: string,
  startsOn: string,
  dataSubjectCount: number,
): DemoContract {
  return {
    client,
    supplier: 'capita',
    reference: `${code}-RB-CAPITA`,
    title: 'Revenues and benefits services, incl. council tax and benefits audit',
    value: null, // not published per council
    startsOn, // ESTIMATE
    endsOn: null,
    criticality: ServiceCriticality.CRITICAL, // benefit payments to residents depend on it
    agreements: [
      {
        reference: `${code}-RB-DPA`,
        dataCategories: BENEFITS_DATA,
        dataSubjectCount, // ESTIMATE: benefits and council tax support caseload
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: ['aws'],
      },
    ],
  };
}

export const DEMO_CONTRACTS: DemoContract[] = [
  {
    client: 'dwp',
    supplier: 'capita',
    reference: 'DWP-PIP-CAPITA',
    title: 'Health and disability assessments (Personal Independence Payment)',
    value: gbp('550000000.00'),
    startsOn: '2019-08-01', // ESTIMATE (Capita has assessed PIP claims since 2013)
    endsOn: '2025-07-31', // ESTIMATE
    criticality: ServiceCriticality.CRITICAL,
    agreements: [
      {
        reference: 'DWP-PIP-CAPITA-DPA',
        dataCategories: [
          DataCategory.HEALTH,
          DataCategory.BASIC_IDENTITY,
          DataCategory.CONTACT,
          DataCategory.GOVERNMENT_ID,
        ],
        dataSubjectCount: 1_200_000, // ESTIMATE: claimants assessed in Capita's regions
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: [],
      },
    ],
  },
  {
    client: 'dfe',
    supplier: 'capita',
    reference: 'STA-NCT-CAPITA',
    title: 'National curriculum tests: administration, marking and results (Standards and Testing Agency)',
    value: gbp('107000000.00'),
    startsOn: '2018-10-01', // ESTIMATE
    endsOn: '2025-09-30', // ESTIMATE
    criticality: ServiceCriticality.IMPORTANT,
    agreements: [
      {
        reference: 'STA-NCT-CAPITA-DPA',
        dataCategories: [DataCategory.CHILDREN, DataCategory.EDUCATION, DataCategory.BASIC_IDENTITY],
        dataSubjectCount: 3_500_000, // ESTIMATE: several yearly cohorts of about 700,000 pupils
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: [],
      },
    ],
  },
  {
    client: 'mod',
    supplier: 'capita',
    reference: 'MOD-DT-CAPITA',
    title: 'Military training services (Defence Training)',
    value: gbp('45000000.00'),
    startsOn: '2021-04-01', // ESTIMATE
    endsOn: '2026-03-31', // ESTIMATE
    criticality: ServiceCriticality.IMPORTANT,
    agreements: [
      {
        reference: 'MOD-DT-CAPITA-DPA',
        dataCategories: [
          DataCategory.EMPLOYMENT,
          DataCategory.BASIC_IDENTITY,
          DataCategory.CONTACT,
          DataCategory.EDUCATION,
        ],
        dataSubjectCount: 80_000, // ESTIMATE: service personnel and trainees
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: [],
      },
    ],
  },
  {
    client: 'nhsEngland',
    supplier: 'capita',
    reference: 'NHSE-PCSE-CAPITA',
    title: 'Primary Care Support England: patient registrations, medical records movement, GP payments',
    value: gbp('330000000.00'), // ESTIMATE: the value reported at award in 2015
    startsOn: '2015-09-01',
    endsOn: '2025-08-31', // ESTIMATE, incl. extensions
    criticality: ServiceCriticality.IMPORTANT,
    agreements: [
      {
        reference: 'NHSE-PCSE-CAPITA-DPA',
        dataCategories: [
          DataCategory.HEALTH,
          DataCategory.BASIC_IDENTITY,
          DataCategory.CONTACT,
          DataCategory.EMPLOYMENT,
          DataCategory.FINANCIAL,
        ],
        dataSubjectCount: 6_000_000, // ESTIMATE: patients whose records moved, plus GPs and practice staff
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: [],
      },
    ],
  },
  {
    client: 'uss',
    supplier: 'capita',
    reference: 'USS-PENSIONS-CAPITA',
    title: 'Pension scheme administration services',
    value: null, // not published
    startsOn: '2012-01-01', // ESTIMATE
    endsOn: null,
    criticality: ServiceCriticality.CRITICAL,
    agreements: [
      {
        reference: 'USS-PENSIONS-CAPITA-DPA',
        dataCategories: [
          DataCategory.BASIC_IDENTITY,
          DataCategory.CONTACT,
          DataCategory.FINANCIAL,
          DataCategory.GOVERNMENT_ID,
          DataCategory.EMPLOYMENT,
        ],
        dataSubjectCount: 500_000, // ESTIMATE: USS said data of about 470,000 members may have been taken
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: [],
      },
    ],
  },
  // Councils that said publicly in May 2023 that their benefits data was in the bucket. Colchester's
  // "past six years" of Capita service gives its start; the others are ESTIMATES.
  councilBenefits('colchester', 'COL', '2017-04-01', 10_000), // 7,349 residents were written to after the bucket
  councilBenefits('coventry', 'COV', '2016-04-01', 40_000),
  councilBenefits('rochford', 'ROC', '2016-04-01', 4_000), // 93 residents were affected by the bucket
  councilBenefits('southStaffordshire', 'SST', '2016-04-01', 5_000),
  {
    // ILLUSTRATIVE dates: an ended contract. Capita's service stopped three weeks before the attack, but the
    // exit plan lets Capita keep the data until the end of August, so Barnet is still exposed (rule 2).
    // Its agreement names no cloud storage, so the bucket does not reach it.
    client: 'barnet',
    supplier: 'capita',
    reference: 'LBB-CSG-CAPITA',
    title: 'Customer and support services incl. revenues and benefits (exited)',
    value: gbp('320000000.00'), // ESTIMATE: the ten-year value reported at award in 2013
    startsOn: '2013-09-01',
    endsOn: '2023-02-28', // ILLUSTRATIVE
    criticality: ServiceCriticality.CRITICAL,
    agreements: [
      {
        reference: 'LBB-CSG-CAPITA-DPA',
        dataCategories: BENEFITS_DATA,
        dataSubjectCount: 60_000, // ESTIMATE
        processingLocations: ['GB'],
        dataRetainedUntil: '2023-08-31', // ILLUSTRATIVE: data held during the exit period
        subprocessors: [],
      },
    ],
  },
  {
    // ILLUSTRATIVE: a contract whose window ended long before 2023 (data deleted in March 2017), so Harrow
    // is exposed to nothing, although its agreement named the same cloud storage.
    client: 'harrow',
    supplier: 'capita',
    reference: 'LBH-RB-CAPITA',
    title: 'Revenues and benefits services (ended 2016)',
    value: null,
    startsOn: '2011-04-01',
    endsOn: '2016-03-31',
    criticality: ServiceCriticality.CRITICAL,
    agreements: [
      {
        reference: 'LBH-RB-CAPITA-DPA',
        dataCategories: BENEFITS_DATA,
        dataSubjectCount: 25_000, // ESTIMATE
        processingLocations: ['GB'],
        dataRetainedUntil: '2017-03-31',
        subprocessors: ['aws'],
      },
    ],
  },
  // Contrast: the same kind of data at other strategic suppliers, not touched by any incident.
  {
    client: 'dwp',
    supplier: 'atos',
    reference: 'DWP-PIP-ATOS',
    title: 'Health and disability assessments (Personal Independence Payment), other regions',
    value: null, // not used: the demo has no published figure to hand
    startsOn: '2019-08-01', // ESTIMATE
    endsOn: '2025-07-31', // ESTIMATE
    criticality: ServiceCriticality.CRITICAL,
    agreements: [
      {
        reference: 'DWP-PIP-ATOS-DPA',
        dataCategories: [
          DataCategory.HEALTH,
          DataCategory.BASIC_IDENTITY,
          DataCategory.CONTACT,
          DataCategory.GOVERNMENT_ID,
        ],
        dataSubjectCount: 1_500_000, // ESTIMATE
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: [],
      },
    ],
  },
  {
    client: 'homeOffice',
    supplier: 'serco',
    reference: 'HO-AASC-SERCO',
    title: 'Asylum accommodation and support services',
    value: null,
    startsOn: '2019-09-01', // ESTIMATE
    endsOn: '2029-08-31', // ESTIMATE
    criticality: ServiceCriticality.CRITICAL,
    agreements: [
      {
        reference: 'HO-AASC-SERCO-DPA',
        dataCategories: [
          DataCategory.BASIC_IDENTITY,
          DataCategory.CONTACT,
          DataCategory.GOVERNMENT_ID,
          DataCategory.HEALTH,
          DataCategory.RACIAL_ETHNIC_ORIGIN,
          DataCategory.RELIGIOUS_BELIEFS,
          DataCategory.CHILDREN,
        ],
        dataSubjectCount: 60_000, // ESTIMATE
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: [],
      },
    ],
  },
  {
    client: 'mod',
    supplier: 'serco',
    reference: 'MOD-MARINE-SERCO',
    title: 'Marine services: harbour and fleet support',
    value: null,
    startsOn: '2008-01-01', // ESTIMATE
    endsOn: null,
    criticality: ServiceCriticality.IMPORTANT,
    agreements: [
      {
        reference: 'MOD-MARINE-SERCO-DPA',
        dataCategories: [DataCategory.EMPLOYMENT, DataCategory.BASIC_IDENTITY, DataCategory.CONTACT],
        dataSubjectCount: 2_000, // ESTIMATE
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: [],
      },
    ],
  },
  // ILLUSTRATIVE (see DEMO_CLIENTS.euFund): members' records administered from the UK for an Irish client.
  {
    client: 'euFund',
    supplier: 'capita',
    reference: 'EU-PENSIONS-CAPITA (illustrative)',
    title: 'Pension administration for Irish scheme members (illustrative)',
    value: null,
    startsOn: '2021-01-01',
    endsOn: null,
    criticality: ServiceCriticality.CRITICAL,
    agreements: [
      {
        reference: 'EU-PENSIONS-CAPITA-DPA (illustrative)',
        dataCategories: [DataCategory.BASIC_IDENTITY, DataCategory.CONTACT, DataCategory.FINANCIAL],
        dataSubjectCount: 20_000,
        processingLocations: ['GB'],
        dataRetainedUntil: null,
        subprocessors: [],
      },
    ],
  },
];

const at = (iso: string) => new Date(iso);

/**
 * Illustrative narrowing of the March attack's categories. Capita and later the ICO spoke of pension,
 * staff and customer records, in some cases special category and criminal records data; there is no
 * published per-category list. The narrowing is here to show an incident evolving: DfE's children's and
 * education data drop out of its exposure, and every exposure keeps its earlier revisions.
 */
const MARCH_2023_CATEGORIES_NARROWED = [
  DataCategory.BASIC_IDENTITY,
  DataCategory.CONTACT,
  DataCategory.FINANCIAL,
  DataCategory.GOVERNMENT_ID,
  DataCategory.EMPLOYMENT,
  DataCategory.HEALTH,
  DataCategory.CRIMINAL_OFFENCE,
];

export const DEMO_INCIDENTS: DemoIncident[] = [
  {
    // (1) The March 2023 attack, at Capita itself: every Capita client whose data-holding window overlaps
    // 22-31 March is exposed directly (path [Capita]).
    supplier: 'capita',
    facts: {
      title: "Cyber attack: unauthorised access to about 4% of Capita's server estate, 22-31 March 2023",
      kind: IncidentKind.CYBER_ATTACK,
      status: IncidentStatus.CONTAINED,
      startedAt: at('2023-03-22T00:00:00Z'),
      // Detected and interrupted on 31 March: the day is public, the hour is not.
      detectedAt: at('2023-03-31T00:00:00Z'),
      containedAt: at('2023-03-31T00:00:00Z'),
      // The announcement of 3 April 2023 (07:00 BST): taken as when clients were told.
      clientsNotifiedAt: at('2023-04-03T06:00:00Z'),
      // Unknown at first: every category of every agreement counts as at risk.
      dataCategoriesAffected: null,
      // What clients heard on 3 April: no evidence that customer data had been compromised.
      exfiltration: ExfiltrationStatus.NONE_FOUND,
    },
    updates: [
      {
        label: '20 April 2023: evidence that limited data was exfiltrated from <0.1% of servers',
        changes: { exfiltration: ExfiltrationStatus.SUSPECTED },
      },
      {
        label: 'affected data categories narrowed (illustrative)',
        changes: { dataCategoriesAffected: MARCH_2023_CATEGORIES_NARROWED },
      },
    ],
  },
  {
    // (2) The May 2023 bucket. It is recorded at the storage sub-processor, not at Capita, although the
    // misconfiguration was Capita's: recorded at Capita, the register would expose every Capita client
    // (the DWP's health data, the DfE's pupils...) to a bucket that held council benefits data only.
    // At AWS, it reaches exactly the agreements that authorise that storage, with path [Capita, AWS].
    // The limit of this choice: any other supplier whose agreements named AWS would be swept in too; a
    // register holding such suppliers would record the tenancy ("AWS, Capita account") as its own supplier.
    supplier: 'aws',
    facts: {
      title:
        'Council benefits data in a publicly readable AWS storage bucket controlled by Capita (reported May 2023)',
      kind: IncidentKind.MISCONFIGURED_STORAGE,
      status: IncidentStatus.CONTAINED,
      // Unknown: the files date from 2019/20 and 2020/21, but not when the bucket became readable. With
      // startedAt null the window starts at detection, which is the narrowest reading.
      startedAt: null,
      detectedAt: at('2023-04-24T00:00:00Z'), // ESTIMATE: secured "about a month" before late-May reports
      containedAt: at('2023-04-24T00:00:00Z'), // ESTIMATE
      clientsNotifiedAt: at('2023-05-12T00:00:00Z'), // ESTIMATE: councils were told in mid-May
      // Colchester: names, addresses, benefit account references, benefits received; no bank details.
      dataCategoriesAffected: [DataCategory.BASIC_IDENTITY, DataCategory.CONTACT, DataCategory.FINANCIAL],
      // Capita saw "no current evidence" of malicious use, but the bucket was publicly readable for an
      // unknown time and was found by an outsider: access by others cannot be excluded.
      exfiltration: ExfiltrationStatus.SUSPECTED,
    },
    updates: [],
    // The councils are Capita's clients, not AWS's: AWS's notice does not reach them; Capita told them.
    clientNotices: (['colchester', 'coventry', 'rochford', 'southStaffordshire'] as const).map((client) => ({
      client,
      noticeAt: at('2023-05-12T00:00:00Z'), // ESTIMATE: councils were told in mid-May
      channel: 'Capita',
    })),
  },
  {
    // (3) FICTIONAL: an outage at the data-centre provider at the bottom of Capita's chain. No personal data
    // affected (an empty list, not unknown): every Capita client with a live contract gets a LOW,
    // service-impact exposure through the supplier-level link, path [Capita, Example Colocation].
    supplier: 'colocation',
    facts: {
      title: 'Power failure in a data hall, services down for 8 hours (fictional, for illustration)',
      kind: IncidentKind.SERVICE_OUTAGE,
      status: IncidentStatus.CLOSED,
      startedAt: at('2024-02-06T09:00:00Z'),
      detectedAt: at('2024-02-06T09:05:00Z'),
      containedAt: at('2024-02-06T17:00:00Z'),
      clientsNotifiedAt: at('2024-02-06T11:00:00Z'),
      dataCategoriesAffected: [],
      exfiltration: ExfiltrationStatus.NONE_FOUND,
    },
    updates: [],
  },
];
