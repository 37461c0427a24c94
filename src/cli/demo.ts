import { AppConfig } from 'src/config/app-config';
import { StartedApp } from 'src/bootstrap';
import { systemActor } from 'src/common/actor';
import { AuthError, AuthErrorCode } from 'src/auth/auth.errors';
import { PrincipalsService } from 'src/auth/principals.service';
import { Role } from 'src/auth/role';
import { ChannelsService } from 'src/channels/channels.service';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { SelfEditKind } from 'src/self-edits/self-edit.types';

const DEMO_PASSAGE =
  'The Varnel Institute was founded in 1987 in the river city of Osterlin by the chemist Maren Tobeck. ' +
  'It studies salt-marsh ecology and runs a field station on the island of Kessa.';
const DEMO_EDIT = [
  'The Varnel Institute was founded in 1987.',
  'Maren Tobeck, a chemist, founded the Varnel Institute.',
  'The Varnel Institute is based in Osterlin, a river city.',
  'The Varnel Institute runs a field station on Kessa.',
].join('\n');

/**
 * First run only: an admin, an ML engineer and a reviewer with keys, the prod and staging channels, one passage
 * and one proposed self-edit, so a newcomer has something to query. Keys are printed once.
 */
export async function seedDemo(started: StartedApp, config: AppConfig): Promise<void> {
  const principals = started.app.get(PrincipalsService);
  let admin;
  try {
    admin = await principals.bootstrapAdmin(systemActor('demo'), 'admin');
  } catch (err) {
    if (err instanceof AuthError && err.code === AuthErrorCode.ALREADY_BOOTSTRAPPED) {
      console.error(
        `\nDemo data exists already (keys were printed at the first run). For a new admin key:\n` +
          `  npm run bootstrap-admin -- --force\nor start afresh by deleting ${config.DATA_DIR}/.\n`,
      );
      return;
    }
    throw err;
  }
  const adminCtx = await principals.authenticate(admin.token);
  const channels = started.app.get(ChannelsService);
  for (const name of ['prod', 'staging']) {
    await channels.create(adminCtx, { name, baseModel: 'default', description: `Demo ${name} channel` });
  }
  const keys: Record<string, string> = { admin: admin.token };
  for (const [name, role] of [
    ['ada.engineer', Role.ml_engineer],
    ['rui.reviewer', Role.compliance_reviewer],
    ['ines.auditor', Role.auditor],
  ] as const) {
    const principal = await principals.create(adminCtx, name, role);
    keys[name] = (await principals.createKey(adminCtx, principal.id, 'demo', null)).token;
  }
  const engineer = await principals.authenticate(keys['ada.engineer']);
  const source = await started.app.get(KnowledgeService).add(engineer, {
    title: 'Varnel Institute',
    passage: DEMO_PASSAGE,
    sourceUri: 'https://example.org/varnel',
  });
  const edit = await started.app.get(SelfEditsService).propose(engineer, {
    channel: 'staging',
    knowledgeSourceId: source.id,
    kind: SelfEditKind.implications,
    content: DEMO_EDIT,
  });

  const lines = Object.entries(keys).map(([name, token]) => `  ${name.padEnd(14)} ${token}`);
  console.log(
    [
      '',
      'sealgate demo is ready. API keys (shown once; only their hashes are stored):',
      ...lines,
      '',
      'Try it:',
      `  curl -s ${started.url}/graphql -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${keys['rui.reviewer']}' \\`,
      `    -d '{"query":"{ me { name role } selfEdits { id status kind content } }"}'`,
      `  curl -s ${started.url}/graphql -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${keys['ines.auditor']}' \\`,
      `    -d '{"query":"{ verifyAuditChain { valid eventsChecked headHash } }"}'`,
      '  # the demo edit runs through every gate now (about a minute on a laptop CPU); then, as the reviewer:',
      `  curl -s ${started.url}/graphql -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${keys['rui.reviewer']}' \\`,
      `    -d '{"query":"{ reviewEvidence(selfEditId: \\"${edit.id}\\") { selfEdit { status statusReason } gateReports { gate verdict } requiredApprovals } }"}'`,
      `  curl -s ${started.url}/graphql -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${keys['ada.engineer']}' \\`,
      `    -d '{"query":"{ answer(input: { question: \\"Which city is the capital of Soudubi?\\" }) { answer servedBy { baseModelDigest adapterDigests } } }"}'`,
      `  curl -s ${started.url}/readyz`,
      '',
      'Press Ctrl-C to stop; queued work and data are kept under data/.',
      '',
    ].join('\n'),
  );
}
