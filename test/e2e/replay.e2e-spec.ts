import { DataSource } from 'typeorm';
import { Role } from 'src/auth/role';
import { AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { AttestationEntity, AttestationKind } from 'src/attestation/attestation.entity';
import { decodePayload } from 'src/attestation/sigstore/dsse';
import { parseStatement } from 'src/attestation/sigstore/in-toto';
import { applyBenignEdit } from 'test/support/lifecycle';
import { TestApp } from 'test/support/test-app';

/**
 * The gateway's mitigation of forgetting across sequential edits (policy `training.replay`, measured by
 * `npm run experiment:continual`): a candidate also trains on the applied edits below it and on rehearsal texts,
 * and its provenance says so.
 */
describe('replay of applied edits and rehearsal texts', () => {
  let t: TestApp;
  let tokens: { engineer: string; reviewer: string };

  beforeAll(async () => {
    t = await TestApp.start('postgres', { CHANNEL_POLICY_FILE: 'test/fixtures/policies/replay.yaml' });
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }',
    );
    tokens = {
      engineer: (await t.principal(Role.ml_engineer)).token,
      reviewer: (await t.principal(Role.compliance_reviewer)).token,
    };
  });
  afterAll(() => t.stop());

  it('trains the second edit on the first one again, and records what was replayed', async () => {
    const first = await applyBenignEdit(t, tokens, 'staging', 0);
    const second = await applyBenignEdit(t, tokens, 'staging', 1);
    const versions = t.get(DataSource).getRepository(AdapterVersionEntity);
    const trainingOf = async (selfEditId: string) =>
      (await versions.findOneByOrFail({ selfEditId })).training;
    expect((await trainingOf(first.editId))?.replay).toEqual({ appliedEdits: 0, rehearsalTexts: 4 });
    expect((await trainingOf(second.editId))?.replay).toEqual({ appliedEdits: 1, rehearsalTexts: 4 });
    // The signed provenance names the replay among the trainer's parameters.
    const head = await versions.findOneByOrFail({ selfEditId: second.editId });
    const attestation = await t
      .get(DataSource)
      .getRepository(AttestationEntity)
      .findOneByOrFail({ subjectId: head.id, kind: AttestationKind.PROVENANCE });
    const statement = parseStatement(decodePayload(JSON.parse(attestation.bundle).dsseEnvelope)) as {
      predicate: { buildDefinition: { internalParameters: { replay?: unknown } } };
    };
    expect(statement.predicate.buildDefinition.internalParameters.replay).toEqual({
      appliedEdits: 1,
      rehearsalTexts: 4,
    });
  }, 600_000);
});
