import { ClientSector, DataCategory, ServiceCriticality, SupplierTier } from '../../common/enums';
import { RegulatoryRegime } from '../obligation/regimes';
import { COMPANY_NUMBER_PATTERN, LEI_PATTERN } from '../supplier/supplier.entity';

/**
 * The one workbook format, in and out (docs/import.md documents it from these definitions): one sheet per
 * entity, a header row of column names, rows referring to each other by natural keys (company number, LEI
 * or name and country for suppliers; the client's reference; the contract's and agreement's references
 * within their client), never by the API's ids. The export writes exactly these columns in this order;
 * the import accepts them in any order.
 */
export type ColumnType =
  | 'text'
  | 'enum'
  | 'enumList'
  | 'boolean'
  | 'date'
  | 'money'
  | 'integer'
  | 'country'
  | 'countryList'
  | 'currency'
  | 'companyNumber'
  | 'lei';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  required: boolean;
  description: string;
  example: string;
  values?: readonly string[];
  /** Longest text accepted (text columns). */
  maxLength?: number;
}

export const SHEET_NAMES = ['suppliers', 'clients', 'contracts', 'agreements', 'subprocessors'] as const;
export type SheetName = (typeof SHEET_NAMES)[number];

export function isSheetName(name: string): name is SheetName {
  return (SHEET_NAMES as readonly string[]).includes(name);
}

const supplierKeyColumns = (prefix: 'supplier' | 'subprocessor', whose: string): ColumnSpec[] => [
  {
    name: `${prefix}CompanyNumber`,
    type: 'companyNumber',
    required: false,
    description: `${whose}: its Companies House number. The first of company number, LEI, or name and country that is filled in identifies the supplier; the others are for people reading.`,
    example: '02081330',
  },
  {
    name: `${prefix}Lei`,
    type: 'lei',
    required: false,
    description: `${whose}: its LEI, when there is no company number.`,
    example: '213800B1AE8YEBV2FF25',
  },
  {
    name: `${prefix}Name`,
    type: 'text',
    required: false,
    maxLength: 200,
    description: `${whose}: its name, with ${prefix}Country, when it has neither company number nor LEI.`,
    example: 'Capita plc',
  },
  {
    name: `${prefix}Country`,
    type: 'country',
    required: false,
    description: `${whose}: its country (ISO 3166-1 alpha-2), with ${prefix}Name.`,
    example: 'GB',
  },
];

export const SHEETS: Record<SheetName, ColumnSpec[]> = {
  suppliers: [
    {
      name: 'name',
      type: 'text',
      required: true,
      maxLength: 200,
      description: 'Name of the company.',
      example: 'Capita plc',
    },
    {
      name: 'companyNumber',
      type: 'companyNumber',
      required: false,
      description: 'Companies House number: 8 digits, or 2 capitals and 6 digits. Unique among suppliers.',
      example: '02081330',
    },
    {
      name: 'lei',
      type: 'lei',
      required: false,
      description: 'Legal Entity Identifier, 20 characters (ISO 17442). Unique among suppliers.',
      example: '213800B1AE8YEBV2FF25',
    },
    {
      name: 'country',
      type: 'country',
      required: true,
      description: 'Country of incorporation, ISO 3166-1 alpha-2.',
      example: 'GB',
    },
    {
      name: 'tier',
      type: 'enum',
      required: true,
      values: Object.values(SupplierTier),
      description: 'How much the register depends on it.',
      example: 'STRATEGIC',
    },
    {
      name: 'strategic',
      type: 'boolean',
      required: false,
      description: "On the government's strategic suppliers list: true or false (empty: false).",
      example: 'true',
    },
  ],
  clients: [
    {
      name: 'reference',
      type: 'text',
      required: true,
      maxLength: 100,
      description:
        "The client's own code, unique (an ONS or ODS code, a ledger code): other sheets refer to the client by it.",
      example: 'E07000071',
    },
    {
      name: 'name',
      type: 'text',
      required: true,
      maxLength: 200,
      description: 'Name of the organisation.',
      example: 'Colchester City Council',
    },
    {
      name: 'sector',
      type: 'enum',
      required: true,
      values: Object.values(ClientSector),
      description: 'Sector it belongs to.',
      example: 'LOCAL_GOVERNMENT',
    },
    {
      name: 'country',
      type: 'country',
      required: false,
      description: 'Country of establishment (empty: GB).',
      example: 'GB',
    },
    {
      name: 'regimes',
      type: 'enumList',
      required: false,
      values: Object.values(RegulatoryRegime),
      description: 'Regulatory regimes, comma-separated (empty: the defaults from sector and country).',
      example: 'UK_GDPR,UK_NIS',
    },
  ],
  contracts: [
    {
      name: 'clientReference',
      type: 'text',
      required: true,
      maxLength: 100,
      description: "The client's reference (clients sheet or the register).",
      example: 'E07000071',
    },
    {
      name: 'reference',
      type: 'text',
      required: true,
      maxLength: 100,
      description: "The contract's reference, unique among the client's contracts.",
      example: 'CCC-REV-2019',
    },
    ...supplierKeyColumns('supplier', 'The supplier'),
    {
      name: 'title',
      type: 'text',
      required: true,
      maxLength: 300,
      description: 'What is bought.',
      example: 'Revenues and benefits service',
    },
    {
      name: 'valueAmount',
      type: 'money',
      required: false,
      description: 'Total value, at most 2 decimals, not negative; with valueCurrency.',
      example: '1250000.00',
    },
    {
      name: 'valueCurrency',
      type: 'currency',
      required: false,
      description: 'ISO 4217 code, with valueAmount.',
      example: 'GBP',
    },
    {
      name: 'startsOn',
      type: 'date',
      required: true,
      description: 'First day (YYYY-MM-DD or a date cell).',
      example: '2019-04-01',
    },
    {
      name: 'endsOn',
      type: 'date',
      required: false,
      description: 'Last day, not before startsOn (empty: open-ended).',
      example: '2026-03-31',
    },
    {
      name: 'criticality',
      type: 'enum',
      required: true,
      values: Object.values(ServiceCriticality),
      description: 'How critical the service is to the client.',
      example: 'CRITICAL',
    },
  ],
  agreements: [
    {
      name: 'clientReference',
      type: 'text',
      required: true,
      maxLength: 100,
      description: "The contract's client's reference.",
      example: 'E07000071',
    },
    {
      name: 'contractReference',
      type: 'text',
      required: true,
      maxLength: 100,
      description: "The contract's reference.",
      example: 'CCC-REV-2019',
    },
    {
      name: 'reference',
      type: 'text',
      required: true,
      maxLength: 100,
      description: "The agreement's reference, unique within its contract.",
      example: 'CCC-REV-2019-DPA',
    },
    {
      name: 'dataCategories',
      type: 'enumList',
      required: true,
      values: Object.values(DataCategory),
      description: 'Personal data categories, comma-separated, at least one.',
      example: 'BASIC_IDENTITY,CONTACT,FINANCIAL',
    },
    {
      name: 'dataSubjectCount',
      type: 'integer',
      required: true,
      description: 'Estimated people whose data the supplier holds: a whole number, 0 or more.',
      example: '120000',
    },
    {
      name: 'processingLocations',
      type: 'countryList',
      required: false,
      description: 'Countries where the data is processed, comma-separated ISO 3166-1 alpha-2.',
      example: 'GB,IE',
    },
    {
      name: 'dataRetainedUntil',
      type: 'date',
      required: false,
      description:
        'Last day the data is kept, not before the contract starts (empty: until the contract ends).',
      example: '2027-03-31',
    },
  ],
  subprocessors: [
    ...supplierKeyColumns('supplier', 'The supplier that relies on the sub-processor'),
    ...supplierKeyColumns('subprocessor', 'The sub-processor'),
    {
      name: 'clientReference',
      type: 'text',
      required: false,
      maxLength: 100,
      description:
        "For a link authorised by one agreement only: the agreement's client reference (with contractReference and agreementReference). Empty: a supplier-level link, covering all the data the supplier holds.",
      example: 'E07000071',
    },
    {
      name: 'contractReference',
      type: 'text',
      required: false,
      maxLength: 100,
      description: "The agreement's contract reference.",
      example: 'CCC-REV-2019',
    },
    {
      name: 'agreementReference',
      type: 'text',
      required: false,
      maxLength: 100,
      description: "The agreement's reference.",
      example: 'CCC-REV-2019-DPA',
    },
  ],
};

export const COMPANY_NUMBER = new RegExp(COMPANY_NUMBER_PATTERN);
export const LEI = new RegExp(LEI_PATTERN);
