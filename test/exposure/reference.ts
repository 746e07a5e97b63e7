/**
 * A plain TypeScript model of the exposure rules (docs/exposure-scoring.md, domain rules 1-6),
 * written from the rules and NOT from the engine's SQL, so the property test can compare two independent
 * implementations. Everything here is deliberately naive: a BFS per incident, loops over contracts and
 * agreements, no cleverness.
 */

export type Category =
  | 'BASIC_IDENTITY'
  | 'CONTACT'
  | 'FINANCIAL'
  | 'GOVERNMENT_ID'
  | 'EMPLOYMENT'
  | 'EDUCATION'
  | 'LOCATION'
  | 'CREDENTIALS'
  | 'CHILDREN'
  | 'HEALTH'
  | 'GENETIC'
  | 'BIOMETRIC'
  | 'RACIAL_ETHNIC_ORIGIN'
  | 'POLITICAL_OPINIONS'
  | 'RELIGIOUS_BELIEFS'
  | 'TRADE_UNION'
  | 'SEX_LIFE_ORIENTATION'
  | 'CRIMINAL_OFFENCE';

export const ALL_CATEGORIES: readonly Category[] = [
  'BASIC_IDENTITY',
  'CONTACT',
  'FINANCIAL',
  'GOVERNMENT_ID',
  'EMPLOYMENT',
  'EDUCATION',
  'LOCATION',
  'CREDENTIALS',
  'CHILDREN',
  'HEALTH',
  'GENETIC',
  'BIOMETRIC',
  'RACIAL_ETHNIC_ORIGIN',
  'POLITICAL_OPINIONS',
  'RELIGIOUS_BELIEFS',
  'TRADE_UNION',
  'SEX_LIFE_ORIENTATION',
  'CRIMINAL_OFFENCE',
];

/** UK GDPR Art. 9. */
export const ART9: ReadonlySet<Category> = new Set<Category>([
  'RACIAL_ETHNIC_ORIGIN',
  'POLITICAL_OPINIONS',
  'RELIGIOUS_BELIEFS',
  'TRADE_UNION',
  'GENETIC',
  'BIOMETRIC',
  'HEALTH',
  'SEX_LIFE_ORIENTATION',
]);

export type Criticality = 'CRITICAL' | 'IMPORTANT' | 'STANDARD';
export type Exfiltration = 'NONE_FOUND' | 'SUSPECTED' | 'CONFIRMED';
export type Level = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface RefContract {
  id: string;
  clientId: string;
  supplierId: string;
  /** YYYY-MM-DD */
  startsOn: string;
  /** YYYY-MM-DD; null: open-ended */
  endsOn: string | null;
  criticality: Criticality;
}

export interface RefAgreement {
  id: string;
  contractId: string;
  categories: Category[];
  dataSubjectCount: number;
  /** YYYY-MM-DD; null: until the contract ends */
  dataRetainedUntil: string | null;
  /** Agreement-level sub-processors. */
  subprocessorIds: string[];
}

export interface RefRegister {
  suppliers: string[];
  /** Supplier-level links: `supplierId` relies on `subprocessorId` for all its processing. */
  links: { supplierId: string; subprocessorId: string }[];
  clients: string[];
  contracts: RefContract[];
  agreements: RefAgreement[];
}

export interface RefIncident {
  id: string;
  supplierId: string;
  startedAt: Date | null;
  detectedAt: Date;
  containedAt: Date | null;
  clientsNotifiedAt: Date | null;
  /** null: not yet known, every category counts as affected */
  dataCategoriesAffected: Category[] | null;
  exfiltration: Exfiltration;
  /** The share of the supplier's data reached, in ten-thousandths (400 = 4%); null: all of it. */
  shareOfDataAffectedBp?: number | null;
}

export interface RefFactor {
  name:
    'specialCategoryData' | 'dataSubjectVolume' | 'exfiltration' | 'serviceCriticality' | 'supplyChainDepth';
  contribution: number;
}

export interface RefExposure {
  incidentId: string;
  clientId: string;
  /** Sorted (lowercase uuid string order). */
  contractIds: string[];
  /** From the client's own supplier to the incident's supplier. */
  path: string[];
  /** Sorted. */
  categories: Category[];
  people: number;
  /** Rule 4's range: the largest agreement at risk and the sum, scaled by the share of data affected. */
  peopleLow: number;
  peopleHigh: number;
  special: boolean;
  score: number;
  level: Level;
  factors: RefFactor[];
  /** Rule 5: one of the involved contracts is with the incident's supplier itself (path [S]). */
  direct: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates (rules 1 and 2): whole UTC days, inclusive. Days are compared as YYYY-MM-DD strings.

export function utcDay(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

function maxDay(a: string, b: string | null): string {
  return b !== null && b > a ? b : a;
}

/** [first day, last day] with null last day meaning "still open". */
export interface DayWindow {
  from: string;
  to: string | null;
}

export function incidentWindow(incident: RefIncident): DayWindow {
  return {
    from: utcDay(incident.startedAt ?? incident.detectedAt),
    to: incident.containedAt ? utcDay(incident.containedAt) : null,
  };
}

/** Rule 2: an agreement holds its data from the contract's start to the later of its end and the agreement's retention. */
export function agreementWindow(contract: RefContract, agreement: RefAgreement): DayWindow {
  if (contract.endsOn === null) return { from: contract.startsOn, to: null };
  return { from: contract.startsOn, to: maxDay(contract.endsOn, agreement.dataRetainedUntil) };
}

/** Rule 2: a contract without an agreement holds no data; it is a service over its own window. */
export function serviceWindow(contract: RefContract): DayWindow {
  return { from: contract.startsOn, to: contract.endsOn };
}

export function windowsOverlap(a: DayWindow, b: DayWindow): boolean {
  const aStartsAfterBEnds = b.to !== null && a.from > b.to;
  const bStartsAfterAEnds = a.to !== null && b.from > a.to;
  return !aStartsAfterBEnds && !bStartsAfterAEnds;
}

// ---------------------------------------------------------------------------------------------------------------
// Supply chain (rule 3).

/** Compares paths: shorter first, then element by element as lowercase strings. */
export function comparePaths(a: string[], b: string[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i].toLowerCase();
    const y = b[i].toLowerCase();
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Shortest chains to `target` through supplier-level links, optionally never passing through `avoid`.
 * Returns a function giving, for any supplier, its shortest chain to the target (the smallest one by
 * comparePaths when several are equally short), or null when it does not reach the target.
 */
export function chainsTo(
  links: RefRegister['links'],
  target: string,
  avoid: string | null = null,
): (from: string) => string[] | null {
  // Breadth-first search backwards from the target: distance[x] = number of links from x to target.
  const reliesOn = new Map<string, string[]>(); // supplier -> its sub-processors
  const reliedOnBy = new Map<string, string[]>(); // sub-processor -> suppliers relying on it
  for (const { supplierId, subprocessorId } of links) {
    if (supplierId === avoid || subprocessorId === avoid) continue;
    if (!reliesOn.has(supplierId)) reliesOn.set(supplierId, []);
    reliesOn.get(supplierId)!.push(subprocessorId);
    if (!reliedOnBy.has(subprocessorId)) reliedOnBy.set(subprocessorId, []);
    reliedOnBy.get(subprocessorId)!.push(supplierId);
  }
  const distance = new Map<string, number>();
  if (target !== avoid) {
    distance.set(target, 0);
    const queue = [target];
    while (queue.length) {
      const node = queue.shift()!;
      for (const before of reliedOnBy.get(node) ?? []) {
        if (!distance.has(before)) {
          distance.set(before, distance.get(node)! + 1);
          queue.push(before);
        }
      }
    }
  }
  return (from: string) => {
    if (!distance.has(from)) return null;
    // Greedy walk: every step goes to the smallest sub-processor one link closer; this is the smallest
    // shortest path element by element.
    const path = [from];
    let node = from;
    while (node !== target) {
      const d = distance.get(node)!;
      const candidates = (reliesOn.get(node) ?? [])
        .filter((next) => distance.get(next) === d - 1)
        .sort((a, b) => comparePaths([a], [b]));
      node = candidates[0];
      path.push(node);
    }
    return path;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Score (rule 6), exactly as docs/exposure-scoring.md describes it.

export interface ScoreInput {
  categories: Category[];
  people: number;
  exfiltration: Exfiltration;
  /** The most critical of the involved contracts. */
  criticality: Criticality;
  /** Links between the client's own supplier and the incident's supplier: path length - 1. */
  depth: number;
}

export function levelOf(score: number): Level {
  if (score >= 75) return 'CRITICAL';
  if (score >= 50) return 'HIGH';
  if (score >= 25) return 'MEDIUM';
  return 'LOW';
}

export function scoreOf(input: ScoreInput): { score: number; level: Level; factors: RefFactor[] } {
  const hasData = input.categories.length > 0;
  let sensitivity = 0;
  if (input.categories.some((c) => ART9.has(c))) sensitivity = 30;
  else if (input.categories.includes('CRIMINAL_OFFENCE') || input.categories.includes('CHILDREN'))
    sensitivity = 15;
  else if (hasData) sensitivity = 5;

  const p = input.people;
  const volume = p >= 1_000_000 ? 25 : p >= 100_000 ? 20 : p >= 10_000 ? 15 : p >= 100 ? 10 : p >= 1 ? 5 : 0;

  const exfiltration = !hasData ? 0 : { CONFIRMED: 20, SUSPECTED: 10, NONE_FOUND: 0 }[input.exfiltration];
  const criticality = { CRITICAL: 15, IMPORTANT: 8, STANDARD: 3 }[input.criticality];

  const base = sensitivity + volume + exfiltration + criticality;
  // The depth factor as displayed, in whole cents: base x (0.8^depth - 1), exactly, as the fraction
  // base x 4^depth / 5^depth, rounded to the nearest cent (halves up).
  const scaledCents =
    (2n * BigInt(base) * 100n * 4n ** BigInt(input.depth) + 5n ** BigInt(input.depth)) /
    (2n * 5n ** BigInt(input.depth));
  const depthCents = Number(scaledCents) - base * 100;
  // Rule 6: the score is the rounded sum of the factors exactly as displayed.
  const displayedSumCents = base * 100 + depthCents;
  const score = Math.floor((displayedSumCents + 50) / 100);
  return {
    score,
    level: levelOf(score),
    factors: [
      { name: 'specialCategoryData', contribution: sensitivity },
      { name: 'dataSubjectVolume', contribution: volume },
      { name: 'exfiltration', contribution: exfiltration },
      { name: 'serviceCriticality', contribution: criticality },
      { name: 'supplyChainDepth', contribution: depthCents / 100 },
    ],
  };
}

const CRITICALITY_RANK: Record<Criticality, number> = { STANDARD: 1, IMPORTANT: 2, CRITICAL: 3 };

// ---------------------------------------------------------------------------------------------------------------
// Exposures (rules 3 and 4).

/**
 * Every client's exposure to one incident, keyed by client id, as computed on `today` (YYYY-MM-DD, UTC):
 * a contract that starts after today exposes nothing yet.
 */
export function expectedExposures(
  register: RefRegister,
  incident: RefIncident,
  today: string,
): Map<string, RefExposure> {
  const S = incident.supplierId;
  const window = incidentWindow(incident);
  const affected = incident.dataCategoriesAffected === null ? null : new Set(incident.dataCategoriesAffected);
  const atRiskOf = (agreement: RefAgreement) =>
    agreement.categories.filter((c) => affected === null || affected.has(c));
  const chainFrom = chainsTo(register.links, S);

  interface Route {
    path: string[];
    /** The route covers at least one agreement at risk in the incident window. */
    carriesData: boolean;
  }
  interface Involvement {
    contracts: RefContract[];
    routes: Route[];
    covered: Map<string, RefAgreement>; // agreement id -> agreement
  }
  const byClient = new Map<string, Involvement>();

  for (const contract of register.contracts) {
    // Rule 2: nothing is exposed before it exists.
    if (contract.startsOn > today) continue;
    const agreements = register.agreements.filter((a) => a.contractId === contract.id);
    const X = contract.supplierId;
    const routes: Route[] = [];
    const covered: RefAgreement[] = [];

    // A route covers some agreements (or, for a contract without any, the service itself); it counts when
    // one of them holds data (or runs) during the incident. Only those agreements put data at risk.
    const consider = (path: string[], coverage: RefAgreement[] | 'service') => {
      if (coverage === 'service') {
        if (windowsOverlap(serviceWindow(contract), window)) routes.push({ path, carriesData: false });
        return;
      }
      const holding = coverage.filter((a) => windowsOverlap(agreementWindow(contract, a), window));
      if (holding.length === 0) return;
      routes.push({ path, carriesData: holding.some((a) => atRiskOf(a).length > 0) });
      for (const a of holding) if (!covered.includes(a)) covered.push(a);
    };

    // The contract's supplier is S or reaches it through supplier-level links: all its data (or its service).
    const direct = chainFrom(X);
    if (direct) consider(direct, agreements.length ? agreements : 'service');
    // An agreement-level sub-processor P that is S or reaches it (never through X again): that agreement's data.
    const chainAvoidingX = chainsTo(register.links, S, X);
    for (const agreement of agreements) {
      for (const P of agreement.subprocessorIds) {
        if (P === X) continue;
        const chain = chainAvoidingX(P);
        if (chain) consider([X, ...chain], [agreement]);
      }
    }
    if (routes.length === 0) continue;

    const involvement: Involvement = byClient.get(contract.clientId) ?? {
      contracts: [],
      routes: [],
      covered: new Map(),
    };
    involvement.contracts.push(contract);
    involvement.routes.push(...routes);
    for (const agreement of covered) involvement.covered.set(agreement.id, agreement);
    byClient.set(contract.clientId, involvement);
  }

  const result = new Map<string, RefExposure>();
  for (const [clientId, involvement] of byClient) {
    const categories = new Set<Category>();
    let people = 0;
    let largest = 0;
    for (const agreement of involvement.covered.values()) {
      const atRisk = atRiskOf(agreement);
      atRisk.forEach((c) => categories.add(c));
      if (atRisk.length > 0) {
        people += agreement.dataSubjectCount;
        largest = Math.max(largest, agreement.dataSubjectCount);
      }
    }
    // Rule 6: the depth that counts is that of the shortest route carrying data at risk (any route when none does).
    const carrying = involvement.routes.filter((r) => r.carriesData);
    const path = (carrying.length ? carrying : involvement.routes).map((r) => r.path).sort(comparePaths)[0];
    const criticality = involvement.contracts
      .map((c) => c.criticality)
      .sort((a, b) => CRITICALITY_RANK[b] - CRITICALITY_RANK[a])[0];
    const sortedCategories = [...categories].sort();
    const { score, level, factors } = scoreOf({
      categories: sortedCategories,
      people,
      exfiltration: incident.exfiltration,
      criticality,
      depth: path.length - 1,
    });
    // Rule 4's range, scaled by the share of data affected: the lower bound rounded down, the upper up.
    const bp = BigInt(incident.shareOfDataAffectedBp ?? 10_000);
    const peopleLow = Number((BigInt(largest) * bp) / 10_000n);
    const peopleHigh = Number((BigInt(people) * bp + 9_999n) / 10_000n);
    result.set(clientId, {
      incidentId: incident.id,
      clientId,
      contractIds: involvement.contracts.map((c) => c.id).sort(),
      path,
      categories: sortedCategories,
      people,
      peopleLow,
      peopleHigh,
      special: sortedCategories.some((c) => ART9.has(c)),
      score,
      level,
      factors,
      direct: involvement.routes.some((r) => r.path.length === 1),
    });
  }
  return result;
}

/** The earlier of two moments, null meaning "none". */
export function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a < b ? a : b;
}

/**
 * Rule 5, the moment a client is told by the supplier's notice: only the incident supplier's direct
 * clients are told by it (an indirect client hears from its own supplier, on its own date).
 */
export function toldBySupplier(
  clientsNotifiedAt: Date | null,
  exposure: Pick<RefExposure, 'direct'>,
): Date | null {
  return exposure.direct ? clientsNotifiedAt : null;
}

/** Rule 5: aware of the incident at the earliest moment told, or at the register's first computation. */
export function awareAtOf(toldFloor: Date | null, firstComputedAt: Date): Date {
  return earliest(toldFloor, firstComputedAt)!;
}

/**
 * Rule 5: aware of a personal data breach at the earliest moment told while the exposure had data at risk
 * (a notice before the first computation is judged by the first revision), or at the first revision
 * with data at risk; null while neither.
 */
export function dataAwareAtOf(dataToldFloor: Date | null, firstDataRevisionAt: Date | null): Date | null {
  return earliest(dataToldFloor, firstDataRevisionAt);
}

export const DEADLINE_MS = 72 * 3600 * 1000;

// ---------------------------------------------------------------------------------------------------------
// Issue 13: obligations, restated from docs/regulatory-clocks.md ("The milestones", "Statuses", "Which
// regimes apply"), not from src/modules/obligation/regimes.ts. Only what the text says is used: each
// milestone's trigger and due offset, the instants rules start (00:00 local time of their first day), hours
// added in UTC, calendar months in UTC, and nextDueAt as the earliest dueAt of an obligation still open.

export type RefRegime = 'UK_GDPR' | 'EU_GDPR' | 'UK_NIS' | 'NIS2' | 'DORA' | 'PECR';

/** What one exposure's clocks are computed from. */
export interface RefClockFacts {
  regimes: readonly RefRegime[];
  awareAt: Date;
  dataAwareAt: Date | null;
  /** Art. 34 triggers itself: the first revision HIGH or CRITICAL with data at risk, while it is so now. */
  highRiskSince: Date | null;
  /** recordObligationTrigger, the earliest per regime. */
  triggers: Partial<Record<RefRegime, Date>>;
  /** The decision in force per `${regime}/${milestone}`: REPORTED (with reportedAt) or NOT_REQUIRED. */
  decisions: Record<string, { status: 'REPORTED' | 'NOT_REQUIRED' | 'ASSESSING'; reportedAt: Date | null }>;
}

export interface RefObligation {
  regime: RefRegime;
  milestone: string;
  startsAt: Date | null;
  dueAt: Date | null;
  open: boolean;
}

/** Midnight of a calendar day in London or Brussels, written out by hand (BST/CEST are UTC+1/UTC+2). */
const LONDON_25_MAY_2018 = Date.parse('2018-05-25T00:00:00+01:00');
const BRUSSELS_25_MAY_2018 = Date.parse('2018-05-25T00:00:00+02:00');
const LONDON_10_MAY_2018 = Date.parse('2018-05-10T00:00:00+01:00');
const BRUSSELS_18_OCT_2024 = Date.parse('2024-10-18T00:00:00+02:00');
const BRUSSELS_17_JAN_2025 = Date.parse('2025-01-17T00:00:00+01:00');
const LONDON_25_AUG_2013 = Date.parse('2013-08-25T00:00:00+01:00');
const LONDON_20_AUG_2025 = Date.parse('2025-08-20T00:00:00+01:00');

const H = 3600 * 1000;
const plusHours = (at: Date, hours: number) => new Date(at.getTime() + hours * H);
/** One calendar month later in UTC; a day the month lacks becomes its last day. */
function plusOneMonth(at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth() + 1;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      y,
      m,
      Math.min(at.getUTCDate(), lastDay),
      at.getUTCHours(),
      at.getUTCMinutes(),
      at.getUTCSeconds(),
      at.getUTCMilliseconds(),
    ),
  );
}

/** The regimes a client is under by default ("Which regimes apply"). */
export function refDefaultRegimes(sector: string, country: string): RefRegime[] {
  const eu =
    'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO'.split(' ');
  if (country === 'GB') return ['UK_GDPR'];
  if (eu.includes(country)) return sector === 'FINANCIAL_SERVICES' ? ['EU_GDPR', 'DORA'] : ['EU_GDPR'];
  return [];
}

/** Every obligation of the exposure, with whether it is still open (started, no REPORTED or NOT_REQUIRED). */
export function refObligations(f: RefClockFacts): RefObligation[] {
  const out: RefObligation[] = [];
  const decided = (regime: RefRegime, milestone: string) => f.decisions[`${regime}/${milestone}`];
  const reportedAt = (regime: RefRegime, milestone: string) => {
    const d = decided(regime, milestone);
    return d?.status === 'REPORTED' ? d.reportedAt : null;
  };
  const add = (regime: RefRegime, milestone: string, startsAt: Date | null, dueAt: Date | null) => {
    const d = decided(regime, milestone);
    const closed = d?.status === 'REPORTED' || d?.status === 'NOT_REQUIRED';
    out.push({
      regime,
      milestone,
      startsAt,
      dueAt: startsAt ? dueAt : null,
      open: startsAt !== null && !closed,
    });
  };
  /** A clock started at `at` counts only when the rule was in force then. */
  const inForce = (at: Date | null, from: number) => (at && at.getTime() >= from ? at : null);
  const trigger = (regime: RefRegime) => f.triggers[regime] ?? null;
  for (const regime of f.regimes) {
    switch (regime) {
      case 'UK_GDPR': {
        const start = inForce(f.dataAwareAt, LONDON_25_MAY_2018);
        add(regime, 'NOTIFICATION', start, start && plusHours(start, 72));
        const recorded = trigger(regime);
        const high =
          recorded && f.highRiskSince
            ? recorded < f.highRiskSince
              ? recorded
              : f.highRiskSince
            : (recorded ?? f.highRiskSince);
        add(regime, 'DATA_SUBJECTS', inForce(high, LONDON_25_MAY_2018), null);
        break;
      }
      case 'EU_GDPR': {
        const start = inForce(f.dataAwareAt, BRUSSELS_25_MAY_2018);
        add(regime, 'NOTIFICATION', start, start && plusHours(start, 72));
        break;
      }
      case 'UK_NIS': {
        const start = inForce(trigger(regime), LONDON_10_MAY_2018);
        add(regime, 'NOTIFICATION', start, start && plusHours(start, 72));
        break;
      }
      case 'NIS2': {
        const start = inForce(trigger(regime), BRUSSELS_18_OCT_2024);
        add(regime, 'EARLY_WARNING', start, start && plusHours(start, 24));
        add(regime, 'NOTIFICATION', start, start && plusHours(start, 72));
        const submitted = inForce(reportedAt(regime, 'NOTIFICATION'), BRUSSELS_18_OCT_2024);
        add(regime, 'FINAL_REPORT', submitted, submitted && plusOneMonth(submitted));
        break;
      }
      case 'DORA': {
        // Open from awareness; due 4 h after classification but at most 24 h after awareness, or 4 h after a
        // classification made later than those 24 h.
        const aware = inForce(f.awareAt, BRUSSELS_17_JAN_2025);
        const classified = trigger(regime);
        let due: Date | null = null;
        if (aware) {
          const backstop = plusHours(aware, 24);
          if (!classified) due = backstop;
          else if (classified <= backstop) {
            const four = plusHours(classified, 4);
            due = four < backstop ? four : backstop;
          } else due = plusHours(classified, 4);
        }
        add(regime, 'INITIAL_NOTIFICATION', aware, due);
        const initial = inForce(reportedAt(regime, 'INITIAL_NOTIFICATION'), BRUSSELS_17_JAN_2025);
        add(regime, 'INTERMEDIATE_REPORT', initial, initial && plusHours(initial, 72));
        const intermediate = inForce(reportedAt(regime, 'INTERMEDIATE_REPORT'), BRUSSELS_17_JAN_2025);
        add(regime, 'FINAL_REPORT', intermediate, intermediate && plusOneMonth(intermediate));
        break;
      }
      case 'PECR': {
        const start = inForce(f.dataAwareAt, LONDON_25_AUG_2013);
        const hours = start && start.getTime() >= LONDON_20_AUG_2025 ? 72 : 24;
        add(regime, 'NOTIFICATION', start, start && plusHours(start, hours));
        break;
      }
    }
  }
  return out;
}

/** Exposure.nextDueAt: the earliest dueAt among obligations still open; null: none. */
export function refNextDueAt(f: RefClockFacts): Date | null {
  const dues = refObligations(f)
    .filter((o) => o.open && o.dueAt)
    .map((o) => o.dueAt!.getTime());
  return dues.length ? new Date(Math.min(...dues)) : null;
}
