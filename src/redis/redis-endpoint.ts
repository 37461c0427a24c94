import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { AppConfig } from 'src/config/app-config';

export interface RedisEndpoint {
  url: string;
  /** Where it came from, for the startup log. */
  origin: 'REDIS_URL' | 'local' | 'embedded';
  stop(): Promise<void>;
}

export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

const DEFAULT_LOCAL = { host: '127.0.0.1', port: 6379 };

/** True when something answers PING with PONG within the timeout. */
export function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Starts `redis-server` from PATH on a free loopback port, persisting to DATA_DIR/redis with AOF so queued work
 * survives a restart of the embedded gateway.
 */
export async function startEmbeddedRedis(config: AppConfig): Promise<RedisEndpoint> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new RedisUnavailableError(
      'No Redis server found. sealgate needs Redis for its job queues. Either install one ' +
        '(Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`) so the embedded ' +
        'gateway can start it, or point REDIS_URL at a running server (e.g. redis://127.0.0.1:6379).',
    );
  }
  const dir = resolve(join(config.DATA_DIR, 'redis'));
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (!(await waitFor(() => redisAnswers('127.0.0.1', port), 10_000))) {
    child.kill('SIGKILL');
    throw new RedisUnavailableError(`redis-server did not answer on port ${port} within 10 s`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    origin: 'embedded',
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM'); // redis-server flushes its AOF on SIGTERM
      }),
  };
}

const noop = () => Promise.resolve();

/** REDIS_URL if set; else a Redis already answering on 127.0.0.1:6379; else (embedded only) one we start. */
export async function resolveRedis(config: AppConfig, allowEmbedded: boolean): Promise<RedisEndpoint> {
  if (config.REDIS_URL) return { url: config.REDIS_URL, origin: 'REDIS_URL', stop: noop };
  if (await redisAnswers(DEFAULT_LOCAL.host, DEFAULT_LOCAL.port)) {
    return { url: `redis://${DEFAULT_LOCAL.host}:${DEFAULT_LOCAL.port}`, origin: 'local', stop: noop };
  }
  if (!allowEmbedded) {
    throw new RedisUnavailableError('REDIS_URL is not set and nothing answers on 127.0.0.1:6379');
  }
  return startEmbeddedRedis(config);
}
