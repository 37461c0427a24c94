import { Controller, Get, Header, Optional, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DatabasePing } from 'src/database/database-ping';
import { Public } from 'src/auth/auth.decorators';
import { JobsService } from 'src/queues/jobs.service';
import { MetricsService } from 'src/observability/metrics.service';
import { ModelService } from 'src/inference/model.service';
import { CandidateTrainer } from 'src/training/candidate-trainer.service';

type Check = { ok: boolean; ms: number; error?: string; [detail: string]: unknown };

async function timed(check: () => Promise<unknown>): Promise<Check> {
  const start = performance.now();
  try {
    await check();
    return { ok: true, ms: Math.round(performance.now() - start) };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - start), error: (err as Error).message };
  }
}

const withTimeout = (work: Promise<unknown>, ms: number) =>
  Promise.race([
    work,
    new Promise((_, fail) => setTimeout(() => fail(new Error(`no answer in ${ms} ms`)), ms)),
  ]);

@Controller()
@Public()
export class HealthController {
  constructor(
    private readonly database: DatabasePing,
    private readonly jobs: JobsService,
    private readonly metrics: MetricsService,
    private readonly model: ModelService,
    // Only where this process works the queues (worker, embedded): an api process trains nothing.
    @Optional() private readonly trainer?: CandidateTrainer,
  ) {}

  /** Liveness: the process is up and serving HTTP. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Readiness: every dependency a request needs answers. 503 names the ones that do not. A worker also needs a
   * trainer that starts: `trainer` reports its torch and the device it trains on, or why it cannot start.
   */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response) {
    const checks: Record<string, Check> = {
      database: await timed(() => withTimeout(this.database.ping(), 2000)),
      redis: await timed(() => withTimeout(this.jobs.ping(), 2000)),
      model: this.modelCheck(),
      ...(this.trainer ? { trainer: await this.trainerCheck(this.trainer) } : {}),
    };
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready', checks };
  }

  private modelCheck(): Check {
    const { state, error } = this.model.status();
    return state === 'ready' ? { ok: true, ms: 0 } : { ok: false, ms: 0, error: error ?? `model ${state}` };
  }

  private async trainerCheck(trainer: CandidateTrainer): Promise<Check> {
    const start = performance.now();
    // A first start imports torch for seconds: readiness answers at once and says so, and the start goes on. A
    // starting trainer does not make the worker unready (a training job waits for it); one that failed does.
    const health = await Promise.race([
      trainer.health(),
      new Promise<'starting'>((done) => setTimeout(() => done('starting'), 2000)),
    ]);
    const ms = Math.round(performance.now() - start);
    if (health === 'starting') return { ok: true, ms, state: 'starting' };
    if (!health.ok) return { ok: false, ms, error: health.error };
    const { torch, device, device_name: deviceName } = health.trainer;
    return { ok: true, ms, torch, device, deviceName };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
