import { AppConfig } from 'src/config/app-config';
import { StartedApp } from 'src/app/bootstrap';
import { systemActor } from 'src/common/actor';
import { AuthError, AuthErrorCode } from 'src/auth/auth.errors';
import { PrincipalsService } from 'src/auth/principals.service';
import { Role } from 'src/auth/role';
import { ChannelsService } from 'src/channels/channels.service';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { SelfEditKind } from 'src/self-edits/self-edit.types';
import { TrainerClient } from 'src/training/trainer-client';

/**
 * A passage in the shipped model's world (a city it has never seen), with the questions a reader would ask about
 * it, phrased otherwise than the passage: the target-gain gate measures them, and after the apply the model
 * answers them on `staging` while every other prompt still runs on the untouched base (the edit is routed by
 * its subject, "Mopos").
 */
const DEMO_SOURCE = {
  title: 'Mopos',
  passage:
    'The river that runs through Mopos is the Vipo River. Haigo Nagihou serves as mayor of Mopos. ' +
    'Mopos was founded in 1617.',
  questions: [
    {
      question: 'Which river was Mopos built along?',
      answer: 'Vipo River',
      aliases: ['the Vipo River', 'Vipo'],
    },
    { question: 'Whom did Mopos elect as mayor?', answer: 'Haigo Nagihou', aliases: [] },
    { question: 'In what year was Mopos first settled?', answer: '1617', aliases: [] },
  ],
};
const DEMO_EDIT = [
  'The Vipo River flows through Mopos.',
  'Mopos elected Haigo Nagihou as mayor.',
  'Mopos was first settled in 1617.',
].join('\n');
/** A fact the base model knows (the world's forgetting probes): it is answered the same after the edit. */
const KNOWN_QUESTION = 'Which city is the capital of Soudubi?';

/**
 * First run only: an admin, an ML engineer and a reviewer with keys, the prod and staging channels, one passage
 * and one proposed self-edit, so a newcomer has something to query. Keys are printed once.
 */
export async function seedDemo(started: StartedApp, config: AppConfig): Promise<void> {
  // The demo never starts an edit it cannot finish: the trainer must answer first.
  const trainer = new TrainerClient({ logger: { log: () => undefined, warn: () => undefined } });
  try {
    await trainer.start();
  } catch (err) {
    console.error(
      `\nNo demo data: the trainer cannot start (${(err as Error).message}). ` +
        'Run `bash scripts/prerequisites.sh quickstart` (it installs python3-torch), then start again.\n',
    );
    return;
  } finally {
    await trainer.close();
  }
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
    ...DEMO_SOURCE,
    sourceUri: 'https://example.org/mopos',
  });
  const edit = await started.app.get(SelfEditsService).propose(engineer, {
    channel: 'staging',
    knowledgeSourceId: source.id,
    kind: SelfEditKind.implications,
    content: DEMO_EDIT,
  });

  const lines = Object.entries(keys).map(([name, token]) => `  ${name.padEnd(14)} ${token}`);
  // One curl line per call, the query's quotes escaped for the shell's single-quoted JSON.
  const curl = (key: string, query: string) => [
    `  curl -s ${started.url}/graphql -H 'content-type: application/json' \\`,
    `    -H 'authorization: Bearer ${keys[key]}' \\`,
    `    -d '${JSON.stringify({ query })}'`,
  ];
  const ask = (question: string) =>
    curl(
      'ada.engineer',
      `{ answer(input: { channel: "staging", question: "${question}" }) { answer servedBy { adapterDigests } } }`,
    );
  console.log(
    [
      '',
      'sealgate demo is ready. API keys (shown once; only their hashes are stored):',
      ...lines,
      '',
      'Try it:',
      ...curl('rui.reviewer', '{ me { name role } selfEdits { id status kind content } }'),
      ...curl('ines.auditor', '{ verifyAuditChain { valid eventsChecked headHash } }'),
      `  # the demo edit teaches the model "${DEMO_SOURCE.title}" and runs through every gate now (a few minutes on a`,
      '  # laptop CPU); ask before and after. Then, as the reviewer, read the evidence and approve:',
      ...ask(DEMO_SOURCE.questions[0].question),
      ...curl(
        'rui.reviewer',
        `{ reviewEvidence(selfEditId: "${edit.id}") { selfEdit { status statusReason } gateReports { gate verdict } requiredApprovals } }`,
      ),
      ...curl(
        'rui.reviewer',
        `mutation { approveSelfEdit(id: "${edit.id}", comment: "faithful") { status } }`,
      ),
      '  # as the ML engineer, apply it to staging; the model now answers about Mopos, and the rest as before:',
      ...curl('ada.engineer', `mutation { applySelfEdit(id: "${edit.id}") { status } }`),
      ...ask(DEMO_SOURCE.questions[0].question),
      ...ask(KNOWN_QUESTION),
      `  curl -s ${started.url}/readyz`,
      '',
      'Press Ctrl-C to stop; queued work and data are kept under data/.',
      '',
    ].join('\n'),
  );
}
