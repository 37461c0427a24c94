import { Controller, Get, Header, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from 'src/auth/auth.decorators';
import { JobsService } from 'src/queues/jobs.service';
import { MetricsService } from 'src/observability/metrics.service';
import { ModelService } from 'src/inference/model.service';

type Check = { ok: boolean; ms: number; error?: string };

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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobsService,
    private readonly metrics: MetricsService,
    private readonly model: ModelService,
  ) {}

  /** Liveness: the process is up and serving HTTP. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: every dependency a request needs answers. 503 names the ones that do not. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response) {
    const checks = {
      database: await timed(() => withTimeout(this.dataSource.query('SELECT 1'), 2000)),
      redis: await timed(() => withTimeout(this.jobs.ping(), 2000)),
      model: this.modelCheck(),
    };
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready', checks };
  }

  private modelCheck(): Check {
    const { state, error } = this.model.status();
    return state === 'ready' ? { ok: true, ms: 0 } : { ok: false, ms: 0, error: error ?? `model ${state}` };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
