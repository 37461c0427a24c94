import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, MoreThanOrEqual } from 'typeorm';
import { chainHash, chainedContentOf } from 'src/audit/audit-chain';
import { AuditEventEntity } from 'src/audit/audit-event.entity';
import { Role } from 'src/auth/role';
import { runVerify } from 'src/cli/audit-bundle';
import { AuditBundleExporter } from 'src/lineage/audit-bundle/audit-bundle.exporter';
import { TestApp } from 'test/support/test-app';

const VERIFY = '{ verifyAuditChain { valid eventsChecked checkpointsChecked problem } }';

/**
 * Issue 17, item 10 (the probe's case): someone with write access to the database rewrites one audit row and
 * recomputes the hash of every row after it, so the chain itself is intact again. Only the log's root changes;
 * the checkpoints the gateway signed before the rewrite must expose it.
 */
describe('tamper evidence that anchors', () => {
  let t: TestApp;
  let auditor: { id: string; token: string };
  let dir: string;

  beforeAll(async () => {
    t = await TestApp.start('postgres');
    auditor = await t.principal(Role.auditor);
    dir = mkdtempSync(join(tmpdir(), 'sealgate-anchor-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.stop();
  });

  const createChannel = async (name: string) => {
    const r = await t.gql(
      t.adminToken,
      `mutation { createChannel(input: { name: "${name}", baseModel: "default" }) { id } }`,
    );
    expect(r.errors).toBeUndefined();
  };

  /** Rewrites the `after` of the event at `seq` and re-chains every event after it, as an attacker would. */
  const rewriteAndRehash = async (seq: number, after: unknown) => {
    const repo = t.get(DataSource).getRepository(AuditEventEntity);
    const events = await repo.find({ where: { seq: MoreThanOrEqual(seq) }, order: { seq: 'ASC' } });
    let prevHash = events[0].prevHash;
    for (const event of events) {
      const changed = event.seq === seq ? after : event.after;
      const hash = chainHash(prevHash, chainedContentOf({ ...event, after: changed }));
      await repo.save({ ...event, after: changed, prevHash, hash });
      prevHash = hash;
    }
  };

  it('detects a rewritten and re-hashed audit row against the checkpoints signed before it', async () => {
    await createChannel('anchored');
    const created = (
      await t.get(DataSource).getRepository(AuditEventEntity).findOneByOrFail({ action: 'channel.created' })
    ).seq;

    // An auditor keeps a copy of a checkpoint the gateway signed.
    const saved = await t.gql<{ logCheckpoint: { note: string; treeSize: number } }>(
      auditor.token,
      '{ logCheckpoint { note treeSize } }',
    );
    expect(saved.errors).toBeUndefined();
    const { note, treeSize } = saved.data!.logCheckpoint;
    expect(treeSize).toBeGreaterThanOrEqual(created);
    writeFileSync(join(dir, 'saved.note'), note);

    // More history; a bundle of the untouched log.
    await createChannel('later');
    const honest = await t.get(AuditBundleExporter).export('anchored');
    writeFileSync(join(dir, 'honest.json'), JSON.stringify(honest));

    const clean = await t.gql<{ verifyAuditChain: { valid: boolean; checkpointsChecked: number } }>(
      auditor.token,
      VERIFY,
    );
    expect(clean.data!.verifyAuditChain.valid).toBe(true);
    expect(clean.data!.verifyAuditChain.checkpointsChecked).toBeGreaterThanOrEqual(2);

    // The attack: one row rewritten, every later hash recomputed, so the chain alone still verifies...
    await rewriteAndRehash(created, { name: 'anchored', rewritten: true });
    // ...but not against the checkpoints the gateway signed before.
    const verified = await t.gql<{ verifyAuditChain: { valid: boolean; problem: string | null } }>(
      auditor.token,
      '{ verifyAuditChain { valid problem } }',
    );
    expect(verified.errors).toBeUndefined();
    expect(verified.data!.verifyAuditChain).toMatchObject({
      valid: false,
      problem: expect.stringContaining(`not consistent with the checkpoint of ${treeSize} events`),
    });
    expect(verified.data!.verifyAuditChain.problem).toContain(
      `an event from seq 1 to ${treeSize} was changed`,
    );

    // The checkpoints it signed are published, and the bundle carries them with proofs into its own.
    const published = await t.gql<{ logCheckpoints: { treeSize: number; note: string; signedAt: string }[] }>(
      auditor.token,
      '{ logCheckpoints(limit: 100) { treeSize note signedAt } }',
    );
    expect(published.errors).toBeUndefined();
    expect(published.data!.logCheckpoints.map((c) => c.treeSize)).toContain(treeSize);
    expect(honest.log.earlier?.map((c) => c.note)).toContain(note);

    // The gateway refuses to sign a checkpoint of the rewritten log.
    const refused = await t.gql(auditor.token, '{ logCheckpoint { note } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(refused.errors?.[0]?.extensions?.reason).toBe('LOG_INCONSISTENT');

    // An attacker who also deletes the stored checkpoints gets a bundle the gateway signs again, but the
    // auditor's saved checkpoint still exposes the rewrite offline.
    await t.get(DataSource).query('DELETE FROM log_checkpoints');
    const forged = await t.get(AuditBundleExporter).export('anchored');
    writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      runVerify(join(dir, 'forged.json'), undefined, true);
      expect(process.exitCode).toBe(0); // without an anchor, the rewrite is self-consistent
      runVerify(join(dir, 'forged.json'), undefined, true, [join(dir, 'saved.note')]);
      expect(process.exitCode).toBe(1);
      expect(JSON.parse(String(log.mock.calls.at(-1)![0]))).toMatchObject({
        valid: false,
        problem: expect.stringContaining(`checkpoint of ${treeSize} events`),
      });
      runVerify(join(dir, 'honest.json'), undefined, true, [join(dir, 'saved.note')]);
      expect(process.exitCode).toBe(0);
    } finally {
      log.mockRestore();
      process.exitCode = 0;
    }
  });
});
