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

/** The jobs other than verify-audit-chain, so a registry can be complete. */
@Injectable()
class OtherHandlers {
  @JobHandler(JobName.EXPIRE_REVIEWS)
  expire() {
    return Promise.resolve('expired');
  }

  @JobHandler(JobName.SCREEN_SELF_EDIT)
  screen() {
    return Promise.resolve('screened');
  }

  @JobHandler(JobName.TRAIN_CANDIDATE)
  train() {
    return Promise.resolve('trained');
  }

  @JobHandler(JobName.EVALUATE_CANDIDATE)
  evaluate() {
    return Promise.resolve('evaluated');
  }

  @JobHandler(JobName.DELIVER_REVIEW_WEBHOOK)
  deliver() {
    return Promise.resolve('delivered');
  }

  @JobHandler(JobName.RUN_SEAL_ROUND)
  round() {
    return Promise.resolve('round');
  }

  @JobHandler(JobName.RELAY_REVIEW_WEBHOOKS)
  relay() {
    return Promise.resolve('relayed');
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
    const registry = await registryWith(VerifyHandler, OtherHandlers);
    expect(registry.build().size).toBe(Object.values(JobName).length);
    await expect(
      registry.get(JobName.VERIFY_AUDIT_CHAIN)({ requestedBy: 't' }, () => Promise.resolve()),
    ).resolves.toBe('ok');
  });

  it('refuses to start when a job has no handler', async () => {
    await expect(registryWith(OtherHandlers).then((r) => r.build())).rejects.toThrow(
      /verify-audit-chain has no handler/,
    );
  });

  it('refuses to start when a job has two handlers', async () => {
    await expect(
      registryWith(VerifyHandler, SecondVerifyHandler, OtherHandlers).then((r) => r.build()),
    ).rejects.toThrow(/has 2 handlers/);
  });
});
