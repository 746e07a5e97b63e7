import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../common/error-code';
import { Connection, PageArgs, decodeCursor, pageSize, toConnection } from '../../common/connection';
import type { SimulatedExposureRow, SimulatedIncidentFacts } from './exposure.engine';
import { ExposureFactorValue, ExposureLevel } from './exposure.entity';

/** One exposure a simulated incident would create (SimulatedExposure in the schema). */
export interface SimulatedExposureValue {
  clientId: string;
  score: number;
  level: ExposureLevel;
  factors: ExposureFactorValue[];
  contractIds: string[];
  path: string[];
  dataCategoriesAtRisk: string[];
  specialCategoryData: boolean;
  dataSubjectsAtRisk: string;
  dataSubjectsAtRiskLow: string;
  dataSubjectsAtRiskHigh: string;
  /**
   * When the client would be aware, had the incident been recorded at the simulation's moment: the engine's
   * rule for a new exposure (the earliest of clientsNotifiedAt and the first computation), and the same for
   * personal data when data is at risk. What SimulatedExposure.obligations start from.
   */
  awareAt: Date;
  dataAwareAt: Date | null;
  /** The simulation's moment: when a HIGH or CRITICAL exposure with data at risk would have become so. */
  computedAt: Date;
}

/** The cursor kind of a simulation's exposures; the cursor's first value is the hash of the simulated input. */
const SIMULATION_CURSOR_KIND = 'simulatedExposures';

/**
 * The answer of one simulateIncident request, computed once (its rows are the engine's `computed` rows,
 * highest score first, then client id descending) and paged in memory by every `exposures` selection of the
 * payload. Its cursors carry a hash of the incident's facts, so a cursor of another simulation is refused
 * rather than paging silently into a different answer.
 */
export class Simulation {
  readonly inputHash: string;
  readonly exposures: SimulatedExposureValue[];

  constructor(facts: SimulatedIncidentFacts, rows: SimulatedExposureRow[], computedAt = new Date()) {
    this.inputHash = hashOfFacts(facts);
    const notified = facts.clientsNotifiedAt;
    const awareAt = notified && notified < computedAt ? notified : computedAt;
    this.exposures = rows.map((row) => ({
      clientId: row.client_id,
      score: row.score,
      level: row.level as ExposureLevel,
      factors: row.factors,
      contractIds: row.contract_ids,
      path: row.path,
      dataCategoriesAtRisk: row.categories,
      specialCategoryData: row.special,
      dataSubjectsAtRisk: row.people,
      dataSubjectsAtRiskLow: row.people_low,
      dataSubjectsAtRiskHigh: row.people_high,
      awareAt,
      dataAwareAt: row.categories.length > 0 ? awareAt : null,
      computedAt,
    }));
  }

  page(args: PageArgs): Connection<SimulatedExposureValue> {
    const first = pageSize(args);
    let rest = this.exposures;
    if (args.after) {
      const [hash, score, clientId] = decodeCursor(args.after, SIMULATION_CURSOR_KIND, [
        'text',
        'integer',
        'uuid',
      ]) as [string, number, string];
      if (hash !== this.inputHash) {
        throw new GraphQLError(
          'This cursor belongs to another simulation (different incident facts): pass `after` a cursor that this simulation returned',
          { extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName: 'after' } },
        );
      }
      const key = clientId.toLowerCase();
      // Descending by (score, client id): what follows the cursor is lower.
      rest = rest.filter((e) => e.score < score || (e.score === score && e.clientId < key));
    }
    return toConnection(
      rest.slice(0, first + 1),
      first,
      args.after != null,
      SIMULATION_CURSOR_KIND,
      (e) => [this.inputHash, e.score, e.clientId],
      async () => this.exposures.length,
    );
  }
}

/** A stable hash of the facts the engine reads (not the title or kind: they change no exposure). */
function hashOfFacts(facts: SimulatedIncidentFacts): string {
  const canonical = JSON.stringify([
    facts.supplierId,
    facts.startedAt?.toISOString() ?? null,
    facts.detectedAt.toISOString(),
    facts.containedAt?.toISOString() ?? null,
    facts.clientsNotifiedAt?.toISOString() ?? null,
    facts.dataCategoriesAffected ? [...facts.dataCategoriesAffected].sort() : null,
    facts.exfiltration,
    facts.shareOfDataAffected === null ? null : Number(facts.shareOfDataAffected),
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}
