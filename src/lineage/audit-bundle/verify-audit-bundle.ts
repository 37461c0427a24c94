import { createHash, KeyObject } from 'node:crypto';
import { ChainedContent, chainHash } from 'src/audit/audit-chain';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { gateReportDigest } from 'src/gates/gate-reports.service';
import { adapterDigest, ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from 'src/inference/lora-adapter';
import { GATEWAY_KEY_OWNER } from 'src/lineage/keys/keys.service';
import {
  AUDIT_BUNDLE_FORMAT,
  AuditBundle,
  ExportedAttestation,
  ExportedVersion,
} from 'src/lineage/audit-bundle/audit-bundle';
import { parseBundle, verifyBundle } from 'src/lineage/signing/bundle';
import {
  readModelSigningStatement,
  SLSA_PROVENANCE_PREDICATE_TYPE,
  SlsaProvenancePredicate,
  Statement,
  TEST_RESULT_PREDICATE_TYPE,
  TestResultPredicate,
} from 'src/lineage/signing/in-toto';
import { keyIdOf, loadPublicKey } from 'src/lineage/signing/keys';
import { APPROVAL_PREDICATE_TYPE } from 'src/lineage/attestations/attestations.service';
import { AttestationKind } from 'src/lineage/attestations/attestation.entity';
import { verifyCheckpoint } from 'src/lineage/transparency/checkpoint';
import { verifyInclusion } from 'src/lineage/transparency/merkle-tree';
import { auditLeaf } from 'src/lineage/transparency/transparency.service';

export interface BundleVerification {
  valid: boolean;
  /** What was checked, in order. */
  checked: string[];
  /** The first broken link, named. */
  problem?: string;
}

/** A broken link: the verifier stops at the first one and names it. */
class BrokenLink extends Error {}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const str = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Verifies an audit bundle offline, trusting only the keys it was given (by default those in the bundle; an
 * auditor should pin the gateway key they know): the log checkpoint and every event's inclusion in it, then for
 * each adapter from the head down its files, model signature, provenance, parent link, gate reports and
 * approvals, each against the rows and against the log.
 */
export function verifyAuditBundle(
  bundle: AuditBundle,
  options: { trustedGatewayKeys?: string[] } = {},
): BundleVerification {
  const checked: string[] = [];
  const check = (what: string, ok: boolean, problem: string) => {
    if (!ok) throw new BrokenLink(`${what}: ${problem}`);
    checked.push(what);
  };
  try {
    check('format', bundle.format === AUDIT_BUNDLE_FORMAT, `not a ${AUDIT_BUNDLE_FORMAT} bundle`);

    // Keys: each published key is what its id says.
    const keys = new Map<string, { owner: string; key: KeyObject }>();
    for (const k of bundle.keys) {
      const key = loadPublicKey(k.publicKeyPem);
      check(
        `key ${k.keyId.slice(0, 12)} of ${k.owner}`,
        keyIdOf(key) === k.keyId,
        'the key id does not match the public key',
      );
      keys.set(k.keyId, { owner: k.owner, key });
    }
    const gatewayPems =
      options.trustedGatewayKeys ??
      bundle.keys.filter((k) => k.owner === GATEWAY_KEY_OWNER).map((k) => k.publicKeyPem);
    const gatewayKeys = gatewayPems.map((pem) => loadPublicKey(pem));
    const keysOf = (owner: string) => [...keys.values()].filter((k) => k.owner === owner).map((k) => k.key);

    // The log: a checkpoint signed by the gateway, and every event in it.
    let root: Buffer;
    let treeSize: number;
    try {
      const verified = verifyCheckpoint(
        bundle.log.checkpoint,
        gatewayKeys.map((publicKey) => ({ name: bundle.log.origin, publicKey })),
        { origin: bundle.log.origin },
      );
      root = verified.checkpoint.rootHash;
      treeSize = verified.checkpoint.treeSize;
      checked.push(`checkpoint of ${treeSize} events`);
    } catch (err) {
      throw new BrokenLink(`checkpoint: ${(err as Error).message}`);
    }
    const events = bundle.events.map(({ event, proof }) => {
      const content: ChainedContent = {
        seq: Number(event.seq),
        actorId: (event.actorId as string | null) ?? null,
        actorName: str(event.actorName),
        action: str(event.action),
        subjectType: str(event.subjectType),
        subjectId: (event.subjectId as string | null) ?? null,
        before: event.before ?? null,
        after: event.after ?? null,
        requestId: (event.requestId as string | null) ?? null,
        at: new Date(str(event.at)).toISOString(),
      };
      const what = `event ${content.seq} (${content.action})`;
      check(
        what,
        chainHash(str(event.prevHash), content) === event.hash,
        'its content does not match its hash',
      );
      check(
        `${what} in the log`,
        verifyInclusion(
          auditLeaf(str(event.hash)),
          content.seq - 1,
          treeSize,
          proof.map((h) => Buffer.from(h, 'hex')),
          root,
        ),
        'its inclusion proof does not verify against the checkpoint',
      );
      return content;
    });
    const logged = (action: string, subjectId: string, match: (after: Record<string, unknown>) => boolean) =>
      events.some(
        (e) =>
          e.action === action &&
          e.subjectId === subjectId &&
          match((e.after ?? {}) as Record<string, unknown>),
      );

    // The channel's head is the first version, and each version's parent the next.
    const channel = bundle.channel;
    check(
      `channel ${str(channel.name)} head`,
      (channel.headAdapterId ?? null) === (bundle.versions[0]?.version.id ?? null),
      `the head is ${str(channel.headAdapterId)}, but the bundle starts at ${str(bundle.versions[0]?.version.id ?? null)}`,
    );
    bundle.versions.forEach((v, i) => {
      const parent = bundle.versions[i + 1];
      verifyVersion(v, parent, { check, gatewayKeys, keysOf, logged, channelId: str(channel.id) });
    });
    return { valid: true, checked };
  } catch (err) {
    const problem = err instanceof BrokenLink ? err.message : `unreadable bundle: ${(err as Error).message}`;
    return { valid: false, checked, problem };
  }
}

interface Context {
  check: (what: string, ok: boolean, problem: string) => void;
  gatewayKeys: KeyObject[];
  keysOf: (owner: string) => KeyObject[];
  logged: (action: string, subjectId: string, match: (after: Record<string, unknown>) => boolean) => boolean;
  channelId: string;
}

function verifyVersion(v: ExportedVersion, parent: ExportedVersion | undefined, ctx: Context): void {
  const { check } = ctx;
  const id = str(v.version.id);
  const at = `adapter ${id}`;
  const digest = str(v.version.digest);

  check(
    `${at} parent`,
    (v.version.parentId ?? null) === (parent?.version.id ?? null),
    `its parent is ${str(v.version.parentId)}, not the next version in the chain`,
  );
  check(
    `${at} applied in the log`,
    ctx.logged('channel.applied', ctx.channelId, (a) => a.headAdapterId === id),
    'no logged event applied it to the channel',
  );

  // Files: their digest is the adapter's address.
  const files = new Map(v.files.map((f) => [f.path, Buffer.from(f.base64, 'base64')]));
  const config = files.get(ADAPTER_CONFIG_FILE);
  const weights = files.get(ADAPTER_WEIGHTS_FILE);
  check(`${at} files`, !!config && !!weights, `${ADAPTER_CONFIG_FILE} or ${ADAPTER_WEIGHTS_FILE} is missing`);
  check(
    `${at} files digest`,
    adapterDigest({ [ADAPTER_CONFIG_FILE]: sha256(config!), [ADAPTER_WEIGHTS_FILE]: sha256(weights!) }) ===
      digest,
    `the files hash to another digest than ${digest}`,
  );

  const signed = (kind: AttestationKind, subjectId: string, keys: KeyObject[]) => {
    const attestation = v.attestations.find((a) => a.kind === String(kind) && a.subjectId === subjectId);
    const what = `${kind} of ${subjectId}`;
    check(what, !!attestation, 'missing');
    return verifySigned(attestation!, what, keys, ctx);
  };

  // model.sig: every file of the folder, signed by the gateway.
  const manifest = readModelSigningStatement(signed(AttestationKind.MODEL_SIGNATURE, id, ctx.gatewayKeys));
  check(
    `${at} model signature covers its files`,
    manifest.files.length === files.size,
    `it signs ${manifest.files.length} files, the folder has ${files.size}`,
  );
  for (const file of manifest.files) {
    const bytes = files.get(file.path);
    check(
      `${at} ${file.path}`,
      !!bytes && sha256(bytes) === file.sha256,
      'its bytes do not match the signed digest',
    );
  }

  // Provenance: what it was built from.
  const provenance = signed(
    AttestationKind.PROVENANCE,
    id,
    ctx.gatewayKeys,
  ) as Statement<SlsaProvenancePredicate>;
  check(
    `${at} provenance type`,
    provenance.predicateType === SLSA_PROVENANCE_PREDICATE_TYPE,
    'not SLSA provenance',
  );
  check(
    `${at} provenance subject`,
    provenance.subject[0]?.digest?.sha256 === digest,
    'it is about another adapter',
  );
  const dependency = (name: string) =>
    provenance.predicate.buildDefinition.resolvedDependencies?.find((d) => d.name === name)?.digest?.sha256;
  const edit = v.edit;
  check(
    `self-edit ${str(edit.id)} content`,
    sha256(str(edit.content)) === edit.contentSha256,
    'the stored text does not match its digest',
  );
  check(
    `${at} provenance self-edit`,
    dependency('self-edit') === edit.contentSha256,
    'it was built from another self-edit',
  );
  if (v.source) {
    check(
      `passage ${str(v.source.id)} content`,
      sha256(str(v.source.passage)) === v.source.contentSha256,
      'the stored passage does not match its digest',
    );
    check(
      `${at} provenance passage`,
      dependency('passage') === v.source.contentSha256,
      'it was built from another passage',
    );
  }
  const parentDigest = parent ? str(parent.version.digest) : undefined;
  check(
    `${at} provenance parent`,
    dependency(`parent/${parentDigest}`) === parentDigest,
    'it was trained on another parent',
  );
  const external = provenance.predicate.buildDefinition.externalParameters;
  check(
    `${at} provenance edit`,
    external.selfEditId === edit.id && external.pipelineRun === edit.pipelineRun,
    'it names another edit or run',
  );

  // Gate reports: unchanged, signed, logged, and every required gate passed.
  const requiredGates = (external.requiredGates ?? []) as string[];
  for (const report of v.reports) {
    const what = `gate report ${str(report.gate)} (${str(report.id)})`;
    const recomputed = gateReportDigest({
      ...(report as unknown as GateReportEntity),
      createdAt: new Date(str(report.createdAt)),
    });
    check(what, recomputed === report.sha256, 'its content does not match its digest');
    check(
      `${what} in the log`,
      ctx.logged('gate.reported', str(report.id), (a) => a.sha256 === report.sha256),
      'no logged event has its digest',
    );
    const result = signed(
      AttestationKind.GATE_REPORT,
      str(report.id),
      ctx.gatewayKeys,
    ) as Statement<TestResultPredicate>;
    check(
      `${what} attestation`,
      result.predicateType === TEST_RESULT_PREDICATE_TYPE &&
        result.predicate.configuration[0]?.digest?.sha256 === report.sha256,
      'the signed test result is about another report',
    );
  }
  for (const gate of requiredGates) {
    const reports = v.reports.filter((r) => r.gate === gate);
    check(
      `${at} required gate ${gate}`,
      reports.length > 0 && reports.every((r) => r.verdict !== 'FAIL'),
      'no passing report',
    );
  }

  // Approvals: each signed by its reviewer, over this edit and these reports; enough of them.
  const approvers = new Set<string>();
  for (const approval of v.approvals) {
    const what = `approval ${str(approval.id)}`;
    const statement = signed(
      AttestationKind.APPROVAL,
      str(approval.id),
      ctx.keysOf(str(approval.reviewerId)),
    );
    const p = statement.predicate as Record<string, unknown>;
    check(
      what,
      statement.predicateType === APPROVAL_PREDICATE_TYPE &&
        p.selfEditId === edit.id &&
        p.pipelineRun === approval.pipelineRun &&
        p.decision === approval.decision &&
        (p.comment ?? null) === (approval.comment ?? null) &&
        statement.subject[0]?.digest?.sha256 === edit.contentSha256,
      'the signed decision does not match the stored one',
    );
    if (approval.decision === 'APPROVE' && approval.reviewerId !== edit.proposedById)
      approvers.add(str(approval.reviewerId));
  }
  const needed = Number(external.requiredApprovals ?? 1);
  check(`${at} approvals`, approvers.size >= needed, `${approvers.size} of ${needed} required approvals`);
}

function verifySigned(
  attestation: ExportedAttestation,
  what: string,
  keys: KeyObject[],
  ctx: Context,
): Statement {
  ctx.check(
    `${what} digest`,
    sha256(attestation.bundle) === attestation.sha256,
    'the bundle does not match its digest',
  );
  ctx.check(
    `${what} in the log`,
    ctx.logged('attestation.recorded', attestation.id, (a) => a.sha256 === attestation.sha256),
    'no logged event has its digest',
  );
  const bundle = parseBundle(attestation.bundle);
  for (const key of keys) {
    try {
      const { statement } = verifyBundle(bundle, [key]);
      ctx.check(`${what} signature`, true, '');
      return statement;
    } catch {
      // try the owner's next key (an older one, before a rotation)
    }
  }
  throw new BrokenLink(`${what} signature: it does not verify with any key of its signer`);
}
