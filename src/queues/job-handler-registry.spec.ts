import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobHandlerRegistry } from 'src/queues/job-handler-registry';
import { JobName } from 'src/queues/queue-names';

@Injectable()
class VerifyHandler {
  @JobHandler(JobName.VERIFY_AUDIT_CHAIN)
  run() {
    return Promise.resolve('ok');
  }
}

@Injectable()
class SecondVerifyHandler {
  @JobHandler(JobName.VERIFY_AUDIT_CHAIN)
  run() {
    return Promise.resolve('again');
  }
}

const registryWith = async (...providers: (new () => object)[]) => {
  const module = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [JobHandlerRegistry, ...providers],
  }).compile();
  return module.get(JobHandlerRegistry);
};

describe('JobHandlerRegistry', () => {
  it('finds exactly one handler per job', async () => {
    const registry = await registryWith(VerifyHandler);
    expect(registry.build().size).toBe(Object.values(JobName).length);
    await expect(
      registry.get(JobName.VERIFY_AUDIT_CHAIN)({ requestedBy: 't' }, () => Promise.resolve()),
    ).resolves.toBe('ok');
  });

  it('refuses to start when a job has no handler', async () => {
    await expect(registryWith().then((r) => r.build())).rejects.toThrow(/verify-audit-chain has no handler/);
  });

  it('refuses to start when a job has two handlers', async () => {
    await expect(registryWith(VerifyHandler, SecondVerifyHandler).then((r) => r.build())).rejects.toThrow(
      /has 2 handlers/,
    );
  });
});
