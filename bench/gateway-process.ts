/**
 * The gateway as a separate process for load benchmarks: embedded mode (SQLite, Redis from 127.0.0.1:6379 or a
 * redis-server it starts), a fresh data folder, an admin key and one channel to serve.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const MAIN = 'dist/src/main.js';
/**
 * The Node.js flags the gateway is run with (package.json's start scripts, the `sealgate` command): V8's
 * background threads sized from the cores, not 4 (docs/configuration.md, "Node.js flags").
 */
export const GATEWAY_NODE_FLAGS = ['--v8-pool-size=0'];

export interface Gateway {
  url: string;
  token: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/src/main.js embedded` with `env` on top of bench defaults, ready to serve channel `bench`;
 * `main` may name another build's entry point (an A/B run against an older build).
 */
export async function startGateway(env: Record<string, string>, main = MAIN): Promise<Gateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealgate-bench-gw-'));
  const fullEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'warn',
    QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    AUDIT_VERIFY_EVERY_MINUTES: '0',
    ...env,
  };
  const token = execFileSync(process.execPath, [main, 'bootstrap-admin', '--name', 'bench'], {
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .toString()
    .trim();
  const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, main, 'embedded'], {
    env: fullEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${seen}`)), 120_000);
    child.stderr.on('data', (d: Buffer) => {
      seen += d.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${seen}`)));
  });
  child.stderr.resume();
  for (let ready = false; !ready; await sleep(200)) {
    ready = (await fetch(`${url}/readyz`).catch(() => null))?.status === 200;
  }
  const created = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation { createChannel(input: { name: "bench", baseModel: "default" }) { id } }',
    }),
  });
  if (!created.ok) throw new Error(`createChannel: ${created.status} ${await created.text()}`);
  return {
    url,
    token,
    pid: child.pid!,
    stop: () => stopChild(child).finally(() => rmSync(dataDir, { recursive: true, force: true })),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LoadResult {
  clients: number;
  seconds: number;
  requests: number;
  completionTokens: number;
  tokensPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  statusCounts: Record<string, number>;
}

/**
 * Closed-loop load with autocannon: `clients` connections, each sending the next request when one returns. Given
 * several bodies, the requests take them in turn, whichever connection sends.
 */
export async function load(
  gateway: Gateway,
  clients: number,
  seconds: number,
  body: Record<string, unknown> | Record<string, unknown>[],
): Promise<LoadResult> {
  let completionTokens = 0;
  const statusCounts: Record<string, number> = {};
  const bodies = (Array.isArray(body) ? body : [body]).map((b) => JSON.stringify(b));
  let sent = 0;
  const result = await autocannon({
    url: `${gateway.url}/v1/completions`,
    connections: clients,
    duration: seconds,
    timeout: 60,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.token}` },
    requests: [
      {
        method: 'POST',
        body: bodies[0],
        ...(bodies.length > 1 && {
          setupRequest: (req: autocannon.Request) => ({ ...req, body: bodies[sent++ % bodies.length] }),
        }),
        onResponse: (status: number, responseBody: string) => {
          statusCounts[status] = (statusCounts[status] ?? 0) + 1;
          if (status === 200) {
            completionTokens += (JSON.parse(responseBody) as { usage: { completion_tokens: number } }).usage
              .completion_tokens;
          }
        },
      },
    ],
  });
  return {
    clients,
    seconds,
    requests: result.requests.total,
    completionTokens,
    tokensPerSec: Math.round(completionTokens / seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    statusCounts,
  };
}

/**
 * One POST to the gateway over a kept-alive connection (node:http, the plainest client): its status and body,
 * for measurements that interleave single requests with other work.
 */
export function post(
  gateway: Gateway,
  path: string,
  body: Record<string, unknown>,
  agent: Agent,
): Promise<{ status: number; body: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${gateway.url}${path}`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: `Bearer ${gateway.token}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Resident set size of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

/** The gateway's V8 heap in use, from its Prometheus metrics. */
export async function heapUsedOf(gateway: Gateway): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  return Number(/^sealgate_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
}
