/**
 * The cost limit (src/security/limits.ts, docs/query-cost.md) on the demo register: the questions people
 * ask pass and are answered; the abusive shapes are still refused before anything runs; and the plain
 * lists' declared sizes (LIST_SIZES) hold for the register's real data, so the arithmetic stays honest.
 */
import { parse } from 'graphql';
import { loadDemoRegister } from '../../src/seed/demo';
import { LIST_SIZES, operationCost } from '../../src/security/limits';
import { TestApp, dataOf, startTestApp, testSchema } from '../support/app';

/** The refused query, as a procurement lead writes it: no `first` on the nested pages. */
const TWO_SUPPLIERS = `query TwoSuppliers {
  suppliers(first: 2, filter: { search: "Capita" }) { totalCount edges { node { id name tier strategic subprocessors { name }
    dependents { totalCount edges { node { depth supplier { name } } } }
    contracts { totalCount edges { node { reference title startsOn endsOn criticality client { name sector }
      value { amount currency } dataProcessingAgreements { reference dataCategories dataSubjectCount subprocessors { name } } } } }
    incidents { totalCount edges { node { id title status detectedAt exposureSummary { clientsExposed peopleAtRisk
      peopleAtRiskRange { low high } clientsWithSpecialCategoryData contractValueInvolved { amount currency }
      nearestDeadline critical high medium low } } } } } } }
}`;

/** The same with each incident's exposures, their chains, factors, contracts and clocks. */
const WITH_EXPOSURES = `query TwoSuppliersWithExposures {
  suppliers(first: 2, filter: { search: "Capita" }) { edges { node { name
    contracts { edges { node { reference client { name } value { amount currency } } } }
    incidents { edges { node { title exposureSummary { clientsExposed contractValueInvolved { amount currency } }
      exposures { totalCount edges { node { score level client { name } path { name } factors { name contribution }
        contracts { reference } obligations { regime dueAt } } } } } } } } } }
}`;

const ABUSIVE = {
  threePagesOf100: `{ suppliers(first: 100) { edges { node { contracts(first: 100) { edges { node { client { contracts(first: 100) { totalCount } } } } } } } } }`,
  fourDefaultPages: `{ suppliers { edges { node { contracts { edges { node { client { contracts { edges { node { supplier {
    incidents { edges { node { title } } } } } } } } } } } } } } }`,
  listsInLists: `{ exposures(first: 100) { edges { node { history { path { contracts(first: 100) { edges { node { client { name } } } } } } } } } }`,
};

describe('query cost on the demo register', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
    await loadDemoRegister(app.database.db, app.services, () => undefined);
  });
  afterAll(() => app?.stop());

  it('lets the natural questions through and answers them', async () => {
    const schema = await testSchema();
    for (const query of [TWO_SUPPLIERS, WITH_EXPOSURES]) {
      const cost = operationCost(schema, parse(query), {});
      expect(cost).toBeLessThan(25000);
      const data = dataOf(await app.gql(app.adminToken, query));
      expect(data.suppliers.edges.length).toBeGreaterThan(0);
    }
    // The figures docs/query-cost.md quotes (the old arithmetic priced them at 7,961 and 57,329, refusing the second).
    expect(operationCost(schema, parse(TWO_SUPPLIERS), {})).toBe(653);
    expect(operationCost(schema, parse(WITH_EXPOSURES), {})).toBe(5887);
    const answered = dataOf(await app.gql(app.adminToken, WITH_EXPOSURES));
    const exposures = answered.suppliers.edges.flatMap((s: any) =>
      s.node.incidents.edges.flatMap((i: any) => i.node.exposures.edges),
    );
    expect(exposures.length).toBeGreaterThan(0);
  });

  it.each(Object.entries(ABUSIVE))('still refuses %s before running anything', async (_name, query) => {
    const response = await app.gql(app.adminToken, query);
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(response.sqlStatements).toBe(0);
  });

  it("the plain lists' declared sizes hold for the register's data", async () => {
    const [measured] = await app.database.db.query(`SELECT
      (SELECT coalesce(max(jsonb_array_length(factors)), 0) FROM exposure) AS factors,
      (SELECT coalesce(max(cardinality(path)), 0) FROM exposure) AS path,
      (SELECT coalesce(max(cardinality(contract_ids)), 0) FROM exposure) AS contracts,
      (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM data_processing_agreement GROUP BY contract_id) x) AS agreements,
      (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM agreement_subprocessor GROUP BY agreement_id) x) AS agreement_subprocessors,
      (SELECT coalesce(max(n), 0) FROM (SELECT count(DISTINCT c.value_currency) AS n FROM exposure e
         JOIN contract c ON c.id = ANY (e.contract_ids) GROUP BY e.incident_id) x) AS currencies`);
    expect(Number(measured.factors)).toBeLessThanOrEqual(LIST_SIZES['Exposure.factors']);
    expect(Number(measured.path)).toBeLessThanOrEqual(LIST_SIZES['Exposure.path']);
    expect(Number(measured.contracts)).toBeLessThanOrEqual(LIST_SIZES['Exposure.contracts']);
    expect(Number(measured.agreements)).toBeLessThanOrEqual(LIST_SIZES['Contract.dataProcessingAgreements']);
    expect(Number(measured.agreement_subprocessors)).toBeLessThanOrEqual(
      LIST_SIZES['DataProcessingAgreement.subprocessors'],
    );
    expect(Number(measured.currencies)).toBeLessThanOrEqual(
      LIST_SIZES['ExposureSummary.contractValueInvolved'],
    );
    // The demo has chains and factors at all (the bounds are not vacuous).
    expect(Number(measured.path)).toBeGreaterThan(1);
    expect(Number(measured.factors)).toBeGreaterThan(1);
  });
});
