import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The one way this service opens outgoing connections (webhooks): conventions.md, "Pages, files and
 * outgoing HTTP". It applies the SSRF guard where it cannot be raced: the target's name is resolved by the
 * connection itself (the `lookup` hook of node:net), and the address it is about to connect to is refused
 * when it is loopback, private, link-local (cloud metadata lives at 169.254.169.254), unspecified,
 * multicast or any other special-purpose range. Nothing resolves the name beforehand, so a DNS answer that
 * changes between a check and the connect (DNS rebinding) has nothing to slip past; the connected socket's
 * peer address is checked once more. Redirects are never followed, every request has one deadline
 * (connect, TLS, headers and body together), and at most `maxResponseBytes` of the answer are read.
 */

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** How much of the response body is read; the connection is closed after that. */
  maxResponseBytes: number;
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS: loopback and private addresses are allowed (development, tests). */
  allowPrivateTargets: boolean;
  /** Name resolution; dns.lookup unless a test resolves names itself (to play a rebinding resolver). */
  lookup?: typeof dns.lookup;
}

export type OutgoingOutcome = 'SUCCESS' | 'HTTP_ERROR' | 'TIMEOUT' | 'NETWORK_ERROR' | 'REFUSED_TARGET';

export interface OutgoingResult {
  outcome: OutgoingOutcome;
  /** The response's status, when one arrived. */
  statusCode: number | null;
  durationMs: number;
  /** The first bytes of the response body (at most maxResponseBytes), as text. */
  responseExcerpt: string | null;
  /** Why it failed, in words for the endpoint's owner; null on success. */
  error: string | null;
}

/** Refused: the target is not a public unicast address (and private targets are not allowed). */
export class RefusedTarget extends Error {
  readonly code = 'EREFUSEDTARGET';
}

/**
 * Whether an address may be connected to with private targets disallowed: only ipaddr.js's "unicast"
 * range, i.e. none of loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16,
 * fe80::/10: cloud metadata), carrier-grade NAT (100.64/10: some clouds' metadata), unspecified, broadcast,
 * multicast, reserved, and no IPv6 form that embeds an IPv4 address (6to4, Teredo, NAT64) which could hide one.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

/** The reason an address is refused, or null when it may be connected to. */
export function refusalOf(address: string, allowPrivateTargets: boolean): string | null {
  if (allowPrivateTargets || isPublicAddress(address)) return null;
  return `the target address ${address} is not a public address (loopback, private, link-local, metadata and other special ranges are refused; WEBHOOK_ALLOW_PRIVATE_TARGETS allows them)`;
}

/** A `lookup` for node:net that resolves as usual and refuses the answer if any address in it is not allowed. */
function guardedLookup(allowPrivateTargets: boolean, resolve: typeof dns.lookup): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error);
      const list = addresses as dns.LookupAddress[];
      // Every address must pass: a resolver mixing a public and a private answer gets nothing.
      for (const entry of list) {
        const refusal = refusalOf(entry.address, allowPrivateTargets);
        if (refusal)
          return callback(new RefusedTarget(`${hostname} resolves to ${entry.address}: ${refusal}`));
      }
      if (list.length === 0) return callback(new Error(`${hostname} has no address`));
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  }) as net.LookupFunction;
}

// Keep-alive agents: a receiver that gets many deliveries reuses its connection (each new one is checked).
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

/** POSTs `body` to `url` under the guard; never throws, the result says what happened. */
export function postOutgoing(request: OutgoingRequest): Promise<OutgoingResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise<OutgoingResult>((resolve) => {
    let settled = false;
    let statusCode: number | null = null;
    // Set once the request is under way (below); finish() may run before that and clears nothing then.
    // eslint-disable-next-line prefer-const -- assigned after finish() is defined, which reads it
    let deadline: NodeJS.Timeout | undefined;
    const finish = (result: Omit<OutgoingResult, 'durationMs' | 'statusCode'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ ...result, statusCode, durationMs: Math.round(elapsed()) });
    };
    const fail = (error: unknown) => {
      const err = error as NodeJS.ErrnoException;
      if (err instanceof RefusedTarget || err?.code === 'EREFUSEDTARGET')
        return finish({ outcome: 'REFUSED_TARGET', responseExcerpt: null, error: err.message });
      finish({ outcome: 'NETWORK_ERROR', responseExcerpt: null, error: err?.message ?? String(error) });
    };

    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return finish({ outcome: 'REFUSED_TARGET', responseExcerpt: null, error: 'the URL is not valid' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return finish({ outcome: 'REFUSED_TARGET', responseExcerpt: null, error: 'only http and https URLs' });
    // An address written in the URL is connected to without any lookup, so it is checked here.
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (net.isIP(host)) {
      const refusal = refusalOf(host, request.allowPrivateTargets);
      if (refusal) return finish({ outcome: 'REFUSED_TARGET', responseExcerpt: null, error: refusal });
    }
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(url, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      lookup: guardedLookup(request.allowPrivateTargets, request.lookup ?? dns.lookup),
    });
    deadline = setTimeout(() => {
      finish({
        outcome: 'TIMEOUT',
        responseExcerpt: null,
        error: `no complete answer within ${request.timeoutMs} ms`,
      });
      req.destroy();
    }, request.timeoutMs);
    req.on('socket', (socket) => {
      // The address the socket really connected to, whatever resolved it: the last word on the guard.
      const check = () => {
        const refusal = socket.remoteAddress
          ? refusalOf(socket.remoteAddress, request.allowPrivateTargets)
          : null;
        if (refusal) req.destroy(new RefusedTarget(refusal));
      };
      if (socket.remoteAddress && !socket.connecting) check();
      else socket.once('connect', check);
    });
    req.on('error', fail);
    req.on('response', (res) => {
      statusCode = res.statusCode ?? null;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const excerpt = Buffer.concat(chunks).subarray(0, request.maxResponseBytes).toString('utf8');
        const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
        finish({
          outcome: ok ? 'SUCCESS' : 'HTTP_ERROR',
          responseExcerpt: excerpt,
          // 3xx included: redirects are not followed (the target must answer itself).
          error: ok ? null : `the endpoint answered HTTP ${statusCode}`,
        });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= request.maxResponseBytes) {
          // Enough read: the rest of a large answer is not worth the time or the memory.
          done();
          res.destroy();
          req.destroy();
        }
      });
      res.on('end', done);
      res.on('error', (error) => (statusCode === null ? fail(error) : done()));
      res.on('close', done);
    });
    req.end(request.body);
  });
}
