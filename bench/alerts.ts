import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { Client as PgClient } from 'pg';
import WebSocket from 'ws';
import { createClient, Client as WsClient } from 'graphql-ws';
import type { DataSource } from 'typeorm';
import { encodeGlobalId } from '../src/common/global-id';
import { ALERT_FLOOR_CHANNEL } from './alert-floor-server';

/**
 * Alert delivery against its floor (issue 18, target 5): `subscribers` subscribers spread over `instances`
 * API instances, one per exposed client of the largest supplier (cycling over them when there are more
 * subscribers than clients), each receiving its client's alert of a new incident at that supplier. Latency
 * is from the commit (the first NOTIFY, seen by the benchmark's own LISTEN) to receipt. The floor is the same
 * messages (the alerts just delivered: their ids and kinds, per client) sent by one transaction of NOTIFYs to
 * as many bare LISTEN → WebSocket servers (bench/alert-floor-server.ts), with as many plain WebSocket
 * subscribers; the two alternate, `rounds` times each, and the medians of their per-round p99s are compared.
 */
export interface AlertTools {
  say(line: string): void;
  startProcess(script: string, env: Record<string, string>): ChildProcess;
  stopProcess(child: ChildProcess): Promise<void>;
  waitForHttp(url: string, timeoutMs?: number): Promise<void>;
  /** recordIncident at the largest supplier through this API instance. */
  recordIncident(url: string): Promise<number>;
  peakRssMb(pid: number): number;
}

/** The parts of bench/run.ts's Bench this suite reads. */
export interface AlertBench {
  db: DataSource;
  databaseUrl: string;
  adminToken: string;
  apiEnv: Record<string, string>;
  children: ChildProcess[];
  results: Record<string, unknown>;
  targets: [string, string, string, boolean | null][];
  largestIncident(): Promise<{ id: string; exposures: number }>;
}

export interface AlertRunOptions {
  subscribers: number;
  instances: number;
  rounds: number;
  /** Prefix of the result keys, e.g. `alert` or `alert10k`. */
  key: string;
  /** The API instances already running (the first two of the benchmark), beyond which more are started. */
  running: { url: string; pid: number }[];
}

/** The selection a realistic subscriber makes: the alert and the figures of the exposure it announces. */
const SUBSCRIPTION = `subscription($c: ID) { exposureAlerts(clientId: $c) { id kind occurredAt exposure { score level } } }`;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
};
const median = (values: number[]) => percentile(values, 50);
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (up to 60 s) until `count()` reaches `wanted`. */
async function waitFor(count: () => Promise<number>, wanted: number, timeoutMs = 60000): Promise<number> {
  const started = Date.now();
  let seen = 0;
  while (Date.now() - started < timeoutMs) {
    seen = await count();
    if (seen >= wanted) return seen;
    await sleep(200);
  }
  return seen;
}

/**
 * One round's latencies: every receipt, from the first NOTIFY the benchmark's own LISTEN sees (the commit,
 * as near as this process can tell). On a loaded machine a subscriber can receive its message before that
 * listener wakes up; such a receipt counts as 0 ms (it did not come before the commit), where timing it
 * from an unset commit time gave the time since the process started (p99s of 30 to 80 s for the floor).
 */
class Round {
  committedAt = 0;
  /** CPU time of the side's server processes (API instances or floor servers) from the commit on. */
  cpuAtCommit = 0;
  private readonly receivedAt: number[] = [];
  received(): void {
    this.receivedAt.push(performance.now());
  }
  get count(): number {
    return this.receivedAt.length;
  }
  get latencies(): number[] {
    const committedAt = this.committedAt || Infinity;
    return this.receivedAt.map((at) => Math.max(0, at - committedAt));
  }
}

async function openListener(
  databaseUrl: string,
  channel: string,
  watch: SuiteWatch,
  onFirst: () => void,
): Promise<PgClient> {
  const listener = new PgClient({ connectionString: databaseUrl });
  watch.connection(listener, `the benchmark's listener on ${channel}`);
  await listener.connect();
  await listener.query(`LISTEN ${channel}`);
  listener.on('notification', onFirst);
  return listener;
}

/**
 * What ends the suite early, with a clear message: one of its processes (a floor server, an instance it
 * started) exiting before the suite stops it, or one of the benchmark's own LISTEN connections ending
 * (PostgreSQL 57P01 when a backend is terminated). Without it a floor whose LISTEN connection was cut
 * would leave the suite waiting for messages that cannot come, and an unhandled 'error' of a pg client
 * would kill the whole benchmark.
 */
class SuiteWatch {
  private fail: (error: Error) => void = () => undefined;
  private stopped = false;
  readonly failed = new Promise<never>((_, reject) => {
    this.fail = reject;
  });
  constructor() {
    this.failed.catch(() => undefined);
  }
  process(child: ChildProcess, what: string): void {
    child.once('exit', (code, signal) => {
      if (!this.stopped)
        this.failWith(new Error(`${what} exited (${code ?? signal}) while the alert suite ran`));
    });
  }
  connection(client: PgClient, what: string): void {
    client.on('error', (error: Error & { code?: string }) => {
      if (!this.stopped)
        this.failWith(
          new Error(
            `${what}: its LISTEN connection ended${error.code ? ` (${error.code})` : ''}: ${error.message}`,
          ),
        );
    });
  }
  private failWith(error: Error): void {
    this.stopped = true;
    this.fail(error);
  }
  /** `work`, unless something the suite relies on ends first. */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.failed]);
  }
  stop(): void {
    this.stopped = true;
  }
  /** Stopped or failed: loops of the suite that still wait give up. */
  get ended(): boolean {
    return this.stopped;
  }
}

const metricsUrl = (url: string) => `http://127.0.0.1:${Number(new URL(url).port) + 10}/metrics`;
const activeSubscriptions = async (url: string) =>
  Number(/graphql_active_subscriptions (\d+)/.exec(await (await fetch(metricsUrl(url))).text())?.[1] ?? 0);

export async function alertDelivery(bench: AlertBench, tools: AlertTools, options: AlertRunOptions) {
  const { db, databaseUrl, adminToken } = bench;
  const { say } = tools;
  const { id: incidentId } = await bench.largestIncident();
  const clients: string[] = (
    await db.query(`SELECT client_id FROM exposure WHERE incident_id = $1 ORDER BY client_id LIMIT $2`, [
      incidentId,
      options.subscribers,
    ])
  ).map((r: { client_id: string }) => r.client_id);
  const subscriberClient = (i: number) => clients[i % clients.length];

  // Everything this suite starts is stopped in its finally (and listed in bench.children, which the
  // benchmark stops before it drops its database): nothing of it is still connected when the next suite
  // runs or when the database goes.
  const watch = new SuiteWatch();
  const started: ChildProcess[] = [];
  const floors: { url: string; child: ChildProcess }[] = [];
  const listeners: PgClient[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const instances = options.running.slice(0, options.instances);
  try {
    // The instances: those running, and more started for this suite (metrics on the API port + 10).
    for (let k = instances.length; k < options.instances; k += 1) {
      const port = 4830 + k;
      const child = tools.startProcess('dist/src/main.js', {
        ...bench.apiEnv,
        PORT: String(port),
        METRICS_PORT: String(port + 10),
      });
      started.push(child);
      bench.children.push(child);
      watch.process(child, `the API instance on port ${port}`);
      instances.push({ url: `http://127.0.0.1:${port}`, pid: child.pid! });
    }
    // The floor servers connect to the benchmark's database only now, after every reset, and only for
    // this suite.
    for (let k = 0; k < options.instances; k += 1) {
      const port = 4850 + k;
      const child = tools.startProcess('dist/bench/alert-floor-server.js', {
        DATABASE_URL: databaseUrl,
        PORT: String(port),
      });
      bench.children.push(child);
      watch.process(child, `the alert floor server on port ${port}`);
      floors.push({ url: `http://127.0.0.1:${port}`, child });
    }
    await watch.guard(
      Promise.all([
        ...instances.map((i) => tools.waitForHttp(`${i.url}/readyz`)),
        ...floors.map((f) => tools.waitForHttp(f.url)),
      ]),
    );
    return await watch.guard(measure());
  } finally {
    watch.stop();
    await Promise.all(closers.map((close) => close().catch(() => undefined)));
    await Promise.all(listeners.map((listener) => listener.end().catch(() => undefined)));
    await Promise.all([...started, ...floors.map((f) => f.child)].map((child) => tools.stopProcess(child)));
  }

  async function measure() {
    let current = new Round();
    // CPU of the processes serving the round's side: a figure the machine's other load blurs less than
    // latency does (on 2 shared cores, latency is mostly waiting for a core).
    let side: number[] = [];
    const sideCpuMs = () => side.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const onFirst = () => {
      if (!current.committedAt) current.cpuAtCommit = sideCpuMs();
      current.committedAt ||= performance.now();
    };
    listeners.push(await openListener(databaseUrl, 'exposure_alerts', watch, onFirst));
    listeners.push(await openListener(databaseUrl, ALERT_FLOOR_CHANNEL, watch, onFirst));
    const apiP99: number[] = [];
    const floorP99: number[] = [];
    const apiP50: number[] = [];
    const floorP50: number[] = [];
    const apiCpu: number[] = [];
    const floorCpu: number[] = [];
    let apiReceived = 0;
    let floorReceived = 0;
    {
      const connectApi = async () => {
        const subscribers: WsClient[] = [];
        let errors = 0;
        for (let i = 0; i < options.subscribers; i += 1) {
          const client = createClient({
            url: instances[i % instances.length].url.replace(/^http/, 'ws') + '/graphql',
            webSocketImpl: WebSocket,
            connectionParams: { authorization: `Bearer ${adminToken}` },
            lazy: false,
            retryAttempts: 0,
            onNonLazyError: () => undefined,
          });
          client.subscribe(
            { query: SUBSCRIPTION, variables: { c: encodeGlobalId('Client', subscriberClient(i)) } },
            {
              next: () => current.received(),
              error: (error) => {
                if (errors++ < 3) say(`  subscriber error: ${JSON.stringify(error).slice(0, 200)}`);
              },
              complete: () => undefined,
            },
          );
          subscribers.push(client);
          // Connecting thousands at once would only measure the accept queue; a few hundred at a time.
          if (i % 250 === 249) await sleep(50);
        }
        const open = await waitFor(
          async () =>
            (await Promise.all(instances.map((i) => activeSubscriptions(i.url)))).reduce((a, b) => a + b),
          options.subscribers,
        );
        if (open < options.subscribers)
          say(`  only ${open} of ${options.subscribers} API subscribers connected`);
        const close = () => Promise.all(subscribers.map((client) => client.dispose()));
        closers.push(close);
        return { open, close };
      };
      const connectFloor = async () => {
        const sockets: WebSocket[] = [];
        for (let i = 0; i < options.subscribers; i += 1) {
          const socket = new WebSocket(
            `${floors[i % floors.length].url.replace(/^http/, 'ws')}/?client=${subscriberClient(i)}`,
          );
          // Parsed, as graphql-ws parses each message it receives from the API.
          socket.on('message', (data) => {
            JSON.parse(String(data));
            current.received();
          });
          socket.on('error', () => undefined);
          sockets.push(socket);
          if (i % 250 === 249) await sleep(50);
        }
        const open = await waitFor(
          async () =>
            (await Promise.all(floors.map(async (f) => Number(await (await fetch(f.url)).text())))).reduce(
              (a, b) => a + b,
            ),
          options.subscribers,
        );
        if (open < options.subscribers)
          say(`  only ${open} of ${options.subscribers} floor subscribers connected`);
        const close = async () => {
          for (const socket of sockets) socket.terminate();
        };
        closers.push(close);
        return { open, close };
      };
      const collect = async (expected: number) => {
        const waitStarted = Date.now();
        while (current.count < expected && Date.now() - waitStarted < 60000 && !watch.ended) await sleep(50);
        // The benchmark's listener may wake up after the subscribers did: its commit time first.
        for (const started = Date.now(); !current.committedAt && Date.now() - started < 5000;)
          await sleep(10);
        return current.latencies;
      };
      /** One incident through the API; returns the floor's payloads: the same alerts, as they were received. */
      const apiRound = async (open: number) => {
        const [{ cursor }] = await db.query(
          `SELECT coalesce(max(id), 0)::text AS cursor FROM exposure_alert`,
        );
        current = new Round();
        side = instances.map((i) => i.pid);
        await tools.recordIncident(instances[0].url);
        const latencies = await collect(open);
        apiCpu.push(sideCpuMs() - current.cpuAtCommit);
        apiReceived += latencies.length;
        apiP99.push(percentile(latencies, 99));
        apiP50.push(percentile(latencies, 50));
        const alerts: { client_id: string; id: string; kind: string; occurred_at: Date }[] = await db.query(
          `SELECT client_id, id::text AS id, kind, occurred_at FROM exposure_alert WHERE id > $1 AND client_id = ANY($2::uuid[]) ORDER BY id`,
          [cursor, [...new Set(clients)]],
        );
        const payloads = alerts.map((a) =>
          JSON.stringify({
            c: a.client_id,
            m: JSON.stringify({
              type: 'next',
              payload: { data: { exposureAlerts: { id: a.id, kind: a.kind, occurredAt: a.occurred_at } } },
            }),
          }),
        );
        return { latencies, payloads };
      };
      /** The same messages, NOTIFYed in one transaction (as the API's alerts commit in one). */
      const floorRound = async (open: number, payloads: string[]) => {
        current = new Round();
        side = floors.map((f) => f.child.pid!);
        await db.query(`SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, [
          ALERT_FLOOR_CHANNEL,
          payloads,
        ]);
        const latencies = await collect(open);
        floorCpu.push(sideCpuMs() - current.cpuAtCommit);
        floorReceived += latencies.length;
        floorP99.push(percentile(latencies, 99));
        floorP50.push(percentile(latencies, 50));
        return latencies;
      };
      const line = (r: number, side: string, latencies: number[]) =>
        say(
          `  round ${r + 1} ${side.padEnd(5)} ${latencies.length} received, p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, CPU ${(side === 'API' ? apiCpu : floorCpu).at(-1)} ms`,
        );
      // Both sides' subscribers stay connected through alternating rounds when this process has the file
      // descriptors for both (20,000 by default here); past that, all API rounds, then all floor rounds.
      if (options.subscribers <= 5000) {
        const api = await connectApi();
        const floor = await connectFloor();
        for (let r = 0; r < options.rounds; r += 1) {
          const { latencies, payloads } = await apiRound(api.open);
          line(r, 'API', latencies);
          line(r, 'floor', await floorRound(floor.open, payloads));
        }
        await api.close();
        await floor.close();
      } else {
        const api = await connectApi();
        const rounds: string[][] = [];
        for (let r = 0; r < options.rounds; r += 1) {
          const { latencies, payloads } = await apiRound(api.open);
          line(r, 'API', latencies);
          rounds.push(payloads);
        }
        await api.close();
        const floor = await connectFloor();
        for (const [r, payloads] of rounds.entries())
          line(r, 'floor', await floorRound(floor.open, payloads));
        await floor.close();
      }
    }
    const rss = instances.map((i) => tools.peakRssMb(i.pid));
    const figures = {
      subscribers: options.subscribers,
      instances: options.instances,
      rounds: options.rounds,
      received: apiReceived,
      expected: options.subscribers * options.rounds,
      p50_ms: round1(median(apiP50)),
      p99_ms: round1(median(apiP99)),
      floor_p50_ms: round1(median(floorP50)),
      floor_p99_ms: round1(median(floorP99)),
      floor_received: floorReceived,
      floor_ratio: round(median(apiP99) / median(floorP99), 2),
      cpu_ms: median(apiCpu),
      floor_cpu_ms: median(floorCpu),
      peak_rss_mb: round(Math.max(...rss)),
    };
    return figures;
  }
}

const round1 = (value: number) => round(value, 1);

/** CPU time (user + system) a process has used, in ms (/proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Runs one configuration and records its figures and targets under `options.key`. */
export async function alertSuite(bench: AlertBench, tools: AlertTools, options: AlertRunOptions) {
  tools.say(
    `Alert delivery: ${options.subscribers} subscribers over ${options.instances} instances against the bare NOTIFY → LISTEN → WebSocket floor, ${options.rounds} alternating rounds`,
  );
  const f = await alertDelivery(bench, tools, options);
  tools.say(
    `  median of rounds: API p50 ${f.p50_ms} ms, p99 ${f.p99_ms} ms; floor p50 ${f.floor_p50_ms} ms, p99 ${f.floor_p99_ms} ms; ratio ${f.floor_ratio}; CPU per round (all instances from the commit until the last receipt) ${f.cpu_ms} ms, floor servers ${f.floor_cpu_ms} ms; received ${f.received}/${f.expected}; peak RSS ${f.peak_rss_mb} MB`,
  );
  const k = options.key;
  Object.assign(bench.results, {
    [`${k}_p50_ms`]: f.p50_ms,
    [`${k}_p99_ms`]: f.p99_ms,
    [`${k}_floor_p99_ms`]: f.floor_p99_ms,
    [`${k}_floor_ratio`]: f.floor_ratio,
    [`${k}_subscribers`]: f.subscribers,
    [`${k}_instances`]: f.instances,
    [`${k}_received`]: f.received,
    [`${k}_expected`]: f.expected,
    [`${k}_peak_rss_mb`]: f.peak_rss_mb,
    [`${k}_cpu_ms`]: f.cpu_ms,
    [`${k}_floor_cpu_ms`]: f.floor_cpu_ms,
  });
  const where = `${f.subscribers}/${f.instances}`;
  bench.targets.push(
    [
      `${k}_floor_ratio`,
      `${f.floor_ratio}`,
      options.instances === 2 ? `≤ 1.5 (${where})` : `report (${where})`,
      options.instances === 2 ? f.floor_ratio <= 1.5 && f.received === f.expected : null,
    ],
    [`${k}_p99_ms`, `${f.p99_ms}`, `floor ${f.floor_p99_ms} ms`, null],
    [`${k}_peak_rss_mb`, `${f.peak_rss_mb}`, '≤ 300 (each instance)', f.peak_rss_mb <= 300],
  );
  return f;
}
