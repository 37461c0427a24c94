#!/usr/bin/env -S node --v8-pool-size=0
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ProcessMode } from 'src/app/app.module';
import { startApp } from 'src/app/bootstrap';
import { runExportAudit, runRotateKey, runVerify } from 'src/cli/audit-bundle';
import { runBootstrapAdmin } from 'src/cli/bootstrap-admin';
import { seedDemo } from 'src/cli/demo';
import { runEvalGates } from 'src/cli/eval-gates';
import { printSchema } from 'src/cli/print-schema';
import { ConfigError, loadConfig } from 'src/config/app-config';

process.env.TZ = 'UTC';

const USAGE = `Usage: sealgate [embedded|api|worker] [--demo]
       sealgate bootstrap-admin [--name NAME] [--force]
       sealgate print-schema
       sealgate eval-gates [--json] [--text-only] [--train N [--unrouted]] [FILE ...]
       sealgate export-audit --channel NAME --out FILE
       sealgate verify FILE [--gateway-key PEM_FILE] [--checkpoint NOTE_FILE ...] [--json]
       sealgate keys rotate [--owner gateway|PRINCIPAL_ID]

  embedded         API and worker in one process (default); SQLite and Redis need no setup
  api              GraphQL/HTTP only
  worker           queue consumers only
  bootstrap-admin  create the first admin and print its API key once
  print-schema     print the GraphQL schema (SDL)
  eval-gates       detection and false-positive rates of the gates on the red-team set (or FILEs), with
                   the model screening gates on MODEL_DIR (--text-only: without); --train N also trains
                   candidate adapters for N edits and runs the evaluation gates (routed by subject, as the
                   shipped policy trains them; --unrouted: serving every prompt)
  export-audit     write a channel's audit bundle (lineage, signatures, log proofs, adapter files)
  verify           check an audit bundle offline; exit 0 when everything verifies, 1 naming the first break;
                   --checkpoint: a signed checkpoint kept earlier, which the bundle's log must extend
  keys rotate      new signing key for the gateway or an approver; old public keys stay published
Configuration comes from the environment: see docs/configuration.md.`;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      demo: { type: 'boolean', default: false },
      name: { type: 'string', default: 'admin' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      channel: { type: 'string' },
      out: { type: 'string' },
      owner: { type: 'string' },
      'gateway-key': { type: 'string' },
      checkpoint: { type: 'string', multiple: true },
      'text-only': { type: 'boolean', default: false },
      unrouted: { type: 'boolean', default: false },
      train: { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0] ?? 'embedded';
  if (values.help) return console.log(USAGE);
  // verify needs no configuration, database or server: it runs anywhere the bundle is.
  if (command === 'verify') {
    return runVerify(positionals[1], values['gateway-key'], values.json ?? false, values.checkpoint ?? []);
  }
  const config = loadConfig();

  switch (command) {
    case 'embedded':
    case 'api':
    case 'worker': {
      const mode: ProcessMode = command;
      const started = await startApp(mode, config);
      const shutdown = (signal: string) => {
        console.error(`${signal}: finishing in-flight work, then stopping`);
        const force = setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_SECONDS * 1000);
        force.unref();
        started.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            console.error(err);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      console.error(
        `sealgate ${command} listening on ${started.url} (GraphQL at ${started.url}/graphql, Redis: ${started.redis.origin})`,
      );
      if (values.demo) await seedDemo(started, config);
      return;
    }
    case 'bootstrap-admin':
      return runBootstrapAdmin(config, values.name ?? 'admin', values.force ?? false);
    case 'print-schema':
      return printSchema(config);
    case 'export-audit':
      return runExportAudit(config, values.channel, values.out);
    case 'keys':
      if (positionals[1] !== 'rotate') break;
      return runRotateKey(config, values.owner);
    case 'eval-gates':
      return runEvalGates(
        positionals.slice(1),
        {
          json: values.json ?? false,
          textOnly: values['text-only'] ?? false,
          train: Math.max(0, Number.parseInt(values.train ?? '0', 10) || 0),
          unrouted: values.unrouted ?? false,
        },
        config,
      );
  }
  console.error(`Unknown command ${positionals.join(' ')}\n\n${USAGE}`);
  process.exitCode = 2;
}

main().catch((err: unknown) => {
  if (
    err instanceof ConfigError ||
    (err instanceof Error && ['PolicyFileError', 'RedisUnavailableError'].includes(err.name))
  ) {
    console.error(`sealgate cannot start: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});
