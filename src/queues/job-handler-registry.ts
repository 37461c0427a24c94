import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JOB_HANDLER_KEY } from 'src/queues/job-handler.decorator';
import { JobName, JobPayloads } from 'src/queues/queue-names';

export type Handler<N extends JobName = JobName> = (
  payload: JobPayloads[N],
  progress: (p: number) => Promise<void>,
) => Promise<unknown>;

export class JobHandlerRegistryError extends Error {}

/** Finds every @JobHandler; refuses a job with no handler or with two. */
@Injectable()
export class JobHandlerRegistry {
  private handlers?: Map<JobName, Handler>;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  build(): Map<JobName, Handler> {
    const found = new Map<JobName, { handler: Handler; where: string }[]>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const name = this.reflector.get<JobName | undefined>(JOB_HANDLER_KEY, fn as () => unknown);
        if (!name) continue;
        const list = found.get(name) ?? [];
        list.push({ handler: (fn as Handler).bind(instance), where: `${wrapper.name}.${method}` });
        found.set(name, list);
      }
    }
    const problems: string[] = [];
    for (const name of Object.values(JobName)) {
      const list = found.get(name) ?? [];
      if (list.length === 0) problems.push(`job ${name} has no handler`);
      if (list.length > 1)
        problems.push(`job ${name} has ${list.length} handlers: ${list.map((h) => h.where).join(', ')}`);
    }
    if (problems.length) throw new JobHandlerRegistryError(`Worker refuses to start: ${problems.join('; ')}`);
    this.handlers = new Map([...found].map(([name, list]) => [name, list[0].handler]));
    return this.handlers;
  }

  get(name: JobName): Handler {
    const handler = (this.handlers ?? this.build()).get(name);
    if (!handler) throw new JobHandlerRegistryError(`No handler for job ${name}`);
    return handler;
  }
}
