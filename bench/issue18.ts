/**
 * The final table of `npm run bench`: every target of issue 18, each with the figures (ratios) the run
 * measured for it and whether it is met; a target whose suite did not run says which suite measures it.
 * Rows are found among the run's targets by key, so a suite adds its rows in one place (bench.targets).
 */
type TargetRow = [string, string, string, boolean | null];

const ISSUE_18: { target: string; suite: string; keys: (key: string) => boolean }[] = [
  {
    target: '1. nested read ≥ 1.0× PostGraphile req/s, ≤ 1.0× its CPU',
    suite: 'peer (--peer)',
    keys: (key) => /^peer_(rps|cpu)_ratio_/.test(key),
  },
  {
    target: '2. nested read ≤ 2 SQL statements',
    suite: 'read',
    keys: (key) => key === 'nestedRead_sql_per_request',
  },
  {
    target: '3. recordIncident ≤ 1.5× its write floor',
    suite: 'write',
    keys: (key) => /^(write|recordIncident).*floor/i.test(key),
  },
  {
    target: '4. 10× register: seed < 3 min, incident ≤ 12×, bystander update ≤ 1 s',
    suite: 'scale',
    keys: (key) => ['scale_seed_s', 'scale_engine_ratio', 'scale_update_wait_ms'].includes(key),
  },
  {
    target: '5. alerts p99 ≤ 1.5× floor (1k/2; report 10k/4), RSS ≤ 300 MB',
    suite: 'alerts, alertsLarge',
    keys: (key) => /^alert(Large)?_(floor_ratio|peak_rss_mb)$/.test(key) || key === 'rss_mb',
  },
];

export function printIssue18(targets: TargetRow[], say: (line: string) => void): void {
  say(
    '\nIssue 18 targets                                                           Key                          Value        Target                    Met',
  );
  for (const { target, suite, keys } of ISSUE_18) {
    const rows = targets.filter(([key]) => keys(key));
    const failed = suite
      .split(/, | /)
      .filter((name) => targets.some(([key, value]) => key === `suite_${name}` && value === 'failed'));
    if (failed.length) rows.push([`suite_${failed[0]}`, 'failed', 'runs to the end', false]);
    if (rows.length === 0) {
      say(`${target.padEnd(74)} not measured in this run (--suite ${suite})`);
      continue;
    }
    for (const [index, [key, value, wanted, met]] of rows.entries())
      say(
        `${(index === 0 ? target : '').padEnd(74)} ${key.padEnd(28)} ${value.padEnd(12)} ${wanted.padEnd(25)} ${met === null ? '-' : met ? 'yes' : 'NO'}`,
      );
  }
}
