import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subject } from '@casl/ability';
import { AbilityFactory } from 'src/auth/ability.factory';
import { Action, Subject } from 'src/auth/policy';
import { loadPolicyFile, PolicyFileError } from 'src/auth/policy-file';
import { Role } from 'src/auth/role';

const writePolicy = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'policy-')), 'access.yaml');
  writeFileSync(file, text);
  return file;
};

describe('access policy', () => {
  const shipped = loadPolicyFile('policies/access.yaml');
  const abilities = new AbilityFactory(shipped);

  it('refuses a file with an unknown action, naming where', () => {
    const file = writePolicy(
      'version: 1\nroles:\n  admin: [{ action: destroy, subject: all }]\n  ml_engineer: []\n  compliance_reviewer: []\n  auditor: []\n  service: []\n',
    );
    expect(() => loadPolicyFile(file)).toThrow(PolicyFileError);
    expect(() => loadPolicyFile(file)).toThrow(/roles\.admin\.0\.action/);
  });

  it('refuses a file that forgets a role', () => {
    expect(() => loadPolicyFile(writePolicy('version: 1\nroles:\n  admin: []\n'))).toThrow(/ml_engineer/);
  });

  it('denies what no rule grants', () => {
    const service = abilities.forPrincipal({ id: 's', role: Role.service });
    expect(service.can(Action.query, Subject.Model)).toBe(true);
    expect(service.can(Action.read, Subject.SelfEdit)).toBe(false);
    expect(service.can(Action.create, Subject.KnowledgeSource)).toBe(false);
  });

  it('never lets a reviewer decide on their own proposal', () => {
    const reviewer = abilities.forPrincipal({ id: 'r1', role: Role.compliance_reviewer });
    expect(reviewer.can(Action.approve, subject(Subject.SelfEdit, { proposedById: 'someone' }))).toBe(true);
    expect(reviewer.can(Action.approve, subject(Subject.SelfEdit, { proposedById: 'r1' }))).toBe(false);
  });

  it('lets non-admins manage only their own keys', () => {
    const engineer = abilities.forPrincipal({ id: 'e1', role: Role.ml_engineer });
    expect(engineer.can(Action.revoke, subject(Subject.ApiKey, { principalId: 'e1' }))).toBe(true);
    expect(engineer.can(Action.revoke, subject(Subject.ApiKey, { principalId: 'e2' }))).toBe(false);
  });
});
