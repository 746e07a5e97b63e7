/**
 * The operations GraphiQL opens with, one tab each (GraphiQL's `defaultTabs`; a tab is titled by its
 * operation's name): the questions a procurement lead asks first. test/graphiql/tabs.test.ts runs each of
 * them through the API, so they stay valid and within the cost limit as the schema changes.
 */
export interface GraphiqlTab {
  query: string;
  variables?: string;
}

export const GRAPHIQL_TABS: readonly GraphiqlTab[] = [
  {
    query: `# A supplier in the news: its contracts (who buys what) and its incidents with their exposure.
query SupplierInTheNews {
  suppliers(first: 5, filter: { search: "Capita" }) {
    totalCount
    edges { node { id name tier strategic
      contracts(first: 10) { totalCount edges { node { reference title client { name } value { amount currency } } } }
      incidents(first: 10) { edges { node { id title detectedAt
        exposureSummary { clientsExposed peopleAtRisk clientsWithSpecialCategoryData nearestDeadline } } } }
    } }
  }
}
`,
  },
  {
    query: `# The latest incident: who is exposed, how badly, through which chain, and the 72-hour clock.
query LatestIncidentExposures {
  incidents(first: 1) { edges { node { id title supplier { name }
    exposures(first: 20) { totalCount edges { node {
      client { name } score level dataCategoriesAtRisk dataSubjectsAtRisk specialCategoryData
      path { name } contracts { reference } awareAt notificationDeadline notification { status }
      factors { name detail contribution }
    } } }
  } } }
}
`,
  },
  {
    query: `# What if this supplier had an incident? Nothing is recorded or alerted. Admin or analyst.
# Put a supplier's id (from the first tab) in the variables below.
mutation WhatIf($input: SimulateIncidentInput!) {
  simulateIncident(input: $input) {
    clientsExposed
    userErrors { field code message }
    exposures(first: 20) { edges { node {
      client { name } score level dataCategoriesAtRisk dataSubjectsAtRisk path { name }
    } } }
  }
}
`,
    variables: JSON.stringify(
      {
        input: {
          supplierId: 'a Supplier id',
          title: 'What if',
          kind: 'CYBER_ATTACK',
          status: 'SUSPECTED',
          detectedAt: '2024-03-01T09:00:00Z',
          exfiltration: 'SUSPECTED',
        },
      },
      null,
      2,
    ),
  },
  {
    query: `# Who depends on whom: suppliers ranked by the clients they reach today, directly or through chains.
query Concentration {
  concentration(first: 10) { edges { node {
    supplier { name dependents(first: 5) { totalCount edges { node { depth supplier { name } } } } }
    clientsReached directClients contracts criticalServiceShare specialCategoryClients peopleRange { low high }
  } } }
}
`,
  },
  {
    query: `# Who am I: the subject, role and client of the token in the headers.
query WhoAmI {
  viewer { subject role client { name } }
}
`,
  },
  {
    query: `# My alerts, live (over WebSocket): exposures as they appear, change or resolve.
subscription MyAlerts {
  exposureAlerts { id kind occurredAt reason
    exposure { score level client { name } incident { title supplier { name } } } }
}
`,
  },
];
