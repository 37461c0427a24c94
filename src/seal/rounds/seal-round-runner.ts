import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Logger } from '@nestjs/common';
import { defaultGpuDir } from 'src/training/trainer-client';
import { SealRoundProgress } from 'src/seal/rounds/seal-round.types';

/** `[round] <stage>: [<done>/<total>] (<seconds> s)`, as gpu/sealgate_gpu/seal/common.py Progress writes it. */
const PROGRESS_LINE = /^\[round\] (.+):(?: (\d+)\/(\d+))? \((\d+) s\)$/;

/** One progress line of the Python round, or null for any other stderr line. */
export function parseProgressLine(line: string): SealRoundProgress | null {
  const m = PROGRESS_LINE.exec(line.trim());
  if (!m) return null;
  return {
    stage: m[1].trim(),
    done: m[2] ? Number(m[2]) : 0,
    total: m[3] ? Number(m[3]) : 0,
    seconds: Number(m[4]),
  };
}

export interface RoundCommand {
  modelDir: string;
  /** The channel's stack, base first. */
  adapterFolders: string[];
  passagesFile: string;
  workDir: string;
  k: number;
  seed: number;
}

export interface RoundExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last non-empty stdout line (the JSON summary on success). */
  lastLine: string | null;
  stderrTail: string[];
}

export interface RoundRunOptions {
  onProgress?: (progress: SealRoundProgress) => void;
  onSpawn?: (pid: number | undefined) => void;
  /** Aborting stops the child: SIGTERM, then SIGKILL after `killAfterMs`. */
  signal?: AbortSignal;
  killAfterMs?: number;
}

const STDERR_TAIL_LINES = 20;

/** The command line of one round of `python -m sealgate_gpu.seal.round` (paths absolute: it runs in gpu/). */
export function roundArguments(command: RoundCommand): string[] {
  return [
    '-m',
    'sealgate_gpu.seal.round',
    '--model',
    resolve(command.modelDir),
    ...command.adapterFolders.flatMap((folder) => ['--adapter', resolve(folder)]),
    '--passages',
    resolve(command.passagesFile),
    '--work',
    resolve(command.workDir),
    '--k',
    String(command.k),
    '--seed',
    String(command.seed),
    '--json',
  ];
}

/**
 * Runs one ReST-EM round as a child process of the gpu/ Python (SEALGATE_PYTHON, else /usr/bin/python3, in gpu/
 * like the trainer) and reports its progress lines. Rerunning with the same work folder resumes the round.
 */
export class SealRoundRunner {
  private readonly logger = new Logger(SealRoundRunner.name);

  constructor(
    private readonly python = process.env.SEALGATE_PYTHON ?? '/usr/bin/python3',
    private readonly gpuDir = defaultGpuDir(),
  ) {}

  run(command: RoundCommand, options: RoundRunOptions = {}): Promise<RoundExit> {
    const { onProgress, signal } = options;
    return new Promise((done, fail) => {
      const child = spawn(this.python, roundArguments(command), {
        cwd: this.gpuDir,
        env: process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let lastLine: string | null = null;
      const stderrTail: string[] = [];
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 5_000);
      };
      if (signal?.aborted) stop();
      else signal?.addEventListener('abort', stop, { once: true });
      options.onSpawn?.(child.pid);
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
        if (line.trim()) lastLine = line;
      });
      createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
        stderrTail.push(line);
        if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
        const progress = parseProgressLine(line);
        if (!progress) {
          this.logger.debug(line);
          return;
        }
        try {
          onProgress?.(progress);
        } catch (err) {
          this.logger.warn(`onProgress listener threw: ${(err as Error).message}`);
        }
      });
      child.once('error', (err) => {
        if (child.pid === undefined) fail(new Error(`could not start ${this.python}: ${err.message}`));
      });
      // 'close' comes after stdout and stderr are drained, so the summary line has been read.
      child.once('close', (code, exitSignal) => {
        clearTimeout(killTimer);
        signal?.removeEventListener('abort', stop);
        done({ code, signal: exitSignal, lastLine, stderrTail });
      });
    });
  }
}
