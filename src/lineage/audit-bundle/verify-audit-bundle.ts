import { KeyObject } from 'node:crypto';
import { AuditAction } from 'src/audit/audit-action';
import { ChainedContent, chainHash } from 'src/audit/audit-chain';
import { sha256Hex } from 'src/common/sha256';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { gateReportDigest } from 'src/gates/gate-reports.service';
import { adapterDigest, ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from 'src/inference/lora-adapter';
import { concatLoraAdapters } from 'src/inference/lora-concat';
import type { AdapterRevert } from 'src/adapter-versions/adapter-version.entity';
import { REVERT_BUILD_TYPE } from 'src/lineage/lineage-signer';
import { GATEWAY_KEY_OWNER } from 'src/attestation/keys/keys.service';
import {
  AUDIT_BUNDLE_FORMAT,
  AuditBundle,
  ExportedAttestation,
  ExportedVersion,
} from 'src/lineage/audit-bundle/audit-bundle';
import { parseBundle, verifyBundle } from 'src/attestation/sigstore/bundle';
import {
  readModelSigningStatement,
  SLSA_PROVENANCE_PREDICATE_TYPE,
  SlsaProvenancePredicate,
  Statement,
  TEST_RESULT_PREDICATE_TYPE,
  TestResultPredicate,
} from 'src/attestation/sigstore/in-toto';
import { keyIdOf, loadPublicKey } from 'src/attestation/sigstore/keys';
import { APPROVAL_PREDICATE_TYPE } from 'src/attestation/attestations.service';
import { AttestationKind } from 'src/attestation/attestation.entity';
import { Checkpoint, verifyCheckpoint } from 'src/attestation/transparency/checkpoint';
import { verifyConsistency, verifyInclusion } from 'src/attestation/transparency/merkle-tree';
import { auditLeaf } from 'src/attestation/transparency/transparency.service';

export interface BundleVerification {
  valid: boolean;
  /** What was checked, in order. */
  checked: string[];
  /** The first broken link, named. */
  problem?: string;
}

/** A broken link: the verifier stops at the first one and names it. */
class BrokenLink extends Error {}

const str = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Verifies an audit bundle offline, trusting only the keys it was given (by default those in the bundle; an
 * auditor should pin the gateway key they know): the log checkpoint and every event's inclusion in it, then for
 * each adapter from the head down its files, model signature, provenance, parent link, gate reports and
 * approvals, each against the rows and against the log. The log must extend every earlier checkpoint the bundle
 * carries and every checkpoint the auditor saved (`checkpoints`, signed notes): a logged event rewritten since,
 * even with every later hash recomputed, breaks that consistency.
 */
export function verifyAuditBundle(
  bundle: AuditBundle,
  options: { trustedGatewayKeys?: string[]; checkpoints?: string[] } = {},
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
    const signedCheckpoint = (note: string, what: string): Checkpoint => {
      try {
        return verifyCheckpoint(
          note,
          gatewayKeys.map((publicKey) => ({ name: bundle.log.origin, publicKey })),
          { origin: bundle.log.origin },
        ).checkpoint;
      } catch (err) {
        throw new BrokenLink(`${what}: ${(err as Error).message}`);
      }
    };
    const { rootHash: root, treeSize } = signedCheckpoint(bundle.log.checkpoint, 'checkpoint');
    checked.push(`checkpoint of ${treeSize} events`);

    // Anchors: the log extends every earlier checkpoint, those published with the bundle and those the auditor kept.
    const proofs = new Map<number, Buffer[]>([[treeSize, []]]);
    const extendsCheckpoint = (earlier: Checkpoint, proof: Buffer[] | undefined, what: string) => {
      check(
        what,
        earlier.treeSize <= treeSize,
        `it is newer than the bundle's checkpoint of ${treeSize} events: the log was truncated, or the bundle is older`,
      );
      check(
        what,
        proof !== undefined,
        'the bundle holds no consistency proof from it: the gateway no longer publishes it',
      );
      check(
        what,
        verifyConsistency(earlier.treeSize, treeSize, earlier.rootHash, root, proof!),
        `the log is not consistent with it: an event at or before seq ${earlier.treeSize} was changed`,
      );
    };
    for (const { note, proof } of bundle.log.earlier ?? []) {
      const earlier = signedCheckpoint(note, 'published checkpoint');
      const hashes = proof.map((h) => Buffer.from(h, 'hex'));
      extendsCheckpoint(earlier, hashes, `published checkpoint of ${earlier.treeSize} events`);
      proofs.set(earlier.treeSize, hashes);
    }
    for (const note of options.checkpoints ?? []) {
      const saved = signedCheckpoint(note, 'saved checkpoint');
      extendsCheckpoint(saved, proofs.get(saved.treeSize), `saved checkpoint of ${saved.treeSize} events`);
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
    const logged = (
      action: AuditAction,
      subjectId: string,
      match: (after: Record<string, unknown>) => boolean,
    ) =>
      events.some(
        (e) =>
          e.action === (action as string) &&
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
  logged: (
    action: AuditAction,
    subjectId: string,
    match: (after: Record<string, unknown>) => boolean,
  ) => boolean;
  channelId: string;
}

function verifyVersion(v: ExportedVersion, parent: ExportedVersion | undefined, ctx: Context): void {
  if (v.version.revert) {
    verifyRevert(v, parent, ctx);
    return;
  }
  const { check } = ctx;
  const id = str(v.version.id);
  const at = `adapter ${id}`;
  check(`${at} self-edit`, !!v.edit, 'the bundle does not hold the edit it was trained from');
  const edit = v.edit!;
  const { signed } = verifyAdapter(v, parent, ctx, AuditAction.CHANNEL_APPLIED);

  // Provenance: what it was built from.
  const provenance = signed(
    AttestationKind.PROVENANCE,
    id,
    ctx.gatewayKeys,
  ) as Statement<SlsaProvenancePredicate>;
  const dependency = verifyProvenance(v, parent, provenance, ctx);
  check(
    `self-edit ${str(edit.id)} content`,
    sha256Hex(str(edit.content)) === edit.contentSha256,
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
      sha256Hex(str(v.source.passage)) === v.source.contentSha256,
      'the stored passage does not match its digest',
    );
    check(
      `${at} provenance passage`,
      dependency('passage') === v.source.contentSha256,
      'it was built from another passage',
    );
  }
  const external = provenance.predicate.buildDefinition.externalParameters;
  check(
    `${at} provenance edit`,
    external.selfEditId === edit.id && external.pipelineRun === edit.pipelineRun,
    'it names another edit or run',
  );
  verifyReports(v, (external.requiredGates ?? []) as string[], signed, ctx);

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

/**
 * A revert version: built by the gateway as the exact rank concatenation of the versions that sat above the one
 * it removed. The verifier rebuilds that concatenation from the carried versions' files and must find this
 * version's bytes; the provenance must name the removal and the reason recorded, and the forgetting gates the
 * channel required must have passed on the new stack.
 */
function verifyRevert(v: ExportedVersion, parent: ExportedVersion | undefined, ctx: Context): void {
  const { check } = ctx;
  const id = str(v.version.id);
  const at = `revert ${id}`;
  const revert = v.version.revert as AdapterRevert;
  const { signed, files } = verifyAdapter(v, parent, ctx, AuditAction.CHANNEL_REVERTED);

  const carried = v.carried ?? [];
  check(
    `${at} carried versions`,
    carried.length > 0 &&
      carried.length === revert.carried.length &&
      carried.every(
        (c, i) =>
          c.adapterVersionId === revert.carried[i].adapterVersionId && c.digest === revert.carried[i].digest,
      ),
    'the bundle does not hold the versions the revert record names',
  );
  const carriedFiles = carried.map((c) => {
    const byName = new Map(c.files.map((f) => [f.path, Buffer.from(f.base64, 'base64')]));
    const pair = {
      [ADAPTER_CONFIG_FILE]: byName.get(ADAPTER_CONFIG_FILE) ?? Buffer.alloc(0),
      [ADAPTER_WEIGHTS_FILE]: byName.get(ADAPTER_WEIGHTS_FILE) ?? Buffer.alloc(0),
    };
    check(
      `${at} carried adapter ${c.adapterVersionId} files digest`,
      adapterDigest({
        [ADAPTER_CONFIG_FILE]: sha256Hex(pair[ADAPTER_CONFIG_FILE]),
        [ADAPTER_WEIGHTS_FILE]: sha256Hex(pair[ADAPTER_WEIGHTS_FILE]),
      }) === c.digest,
      `the files hash to another digest than ${c.digest}`,
    );
    return pair;
  });
  const rebuilt = concatLoraAdapters(carriedFiles);
  check(
    `${at} is the rank concatenation of the versions it carries`,
    rebuilt[ADAPTER_CONFIG_FILE].equals(files.get(ADAPTER_CONFIG_FILE)!) &&
      rebuilt[ADAPTER_WEIGHTS_FILE].equals(files.get(ADAPTER_WEIGHTS_FILE)!),
    'its files differ from the concatenation rebuilt from the carried versions',
  );

  const provenance = signed(
    AttestationKind.PROVENANCE,
    id,
    ctx.gatewayKeys,
  ) as Statement<SlsaProvenancePredicate>;
  check(
    `${at} provenance build type`,
    provenance.predicate.buildDefinition.buildType === REVERT_BUILD_TYPE,
    'it does not describe a revert',
  );
  const dependency = verifyProvenance(v, parent, provenance, ctx);
  const external = provenance.predicate.buildDefinition.externalParameters;
  check(
    `${at} provenance removal`,
    external.removedAdapterVersionId === revert.removedAdapterVersionId &&
      external.removedSelfEditId === revert.removedSelfEditId &&
      external.fromHeadAdapterId === revert.fromHeadAdapterId &&
      external.reason === revert.reason &&
      dependency(`removed/${revert.removedDigest}`) === revert.removedDigest &&
      JSON.stringify(external.carriedAdapterVersionIds) ===
        JSON.stringify(revert.carried.map((c) => c.adapterVersionId)) &&
      revert.carried.every((c) => dependency(`carried/${c.digest}`) === c.digest),
    'the signed revert names another removal, reason or carried versions than the stored one',
  );
  check(
    `${at} gate reports`,
    JSON.stringify(v.reports.map((r) => r.id)) === JSON.stringify(revert.gateReportIds),
    'the bundle does not hold the reports the revert record names',
  );
  verifyReports(v, (external.requiredGates ?? []) as string[], signed, ctx);
}

type Signed = (kind: AttestationKind, subjectId: string, keys: KeyObject[]) => Statement;

/** What every version shares: its parent link, its move onto the channel, its files and its model signature. */
function verifyAdapter(
  v: ExportedVersion,
  parent: ExportedVersion | undefined,
  ctx: Context,
  movedBy: AuditAction.CHANNEL_APPLIED | AuditAction.CHANNEL_REVERTED,
): { signed: Signed; files: Map<string, Buffer> } {
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
    `${at} ${movedBy === AuditAction.CHANNEL_APPLIED ? 'applied' : 'reverted'} in the log`,
    ctx.logged(movedBy, ctx.channelId, (a) => a.headAdapterId === id),
    'no logged event moved the channel to it',
  );

  // Files: their digest is the adapter's address.
  const files = new Map(v.files.map((f) => [f.path, Buffer.from(f.base64, 'base64')]));
  const config = files.get(ADAPTER_CONFIG_FILE);
  const weights = files.get(ADAPTER_WEIGHTS_FILE);
  check(`${at} files`, !!config && !!weights, `${ADAPTER_CONFIG_FILE} or ${ADAPTER_WEIGHTS_FILE} is missing`);
  check(
    `${at} files digest`,
    adapterDigest({
      [ADAPTER_CONFIG_FILE]: sha256Hex(config!),
      [ADAPTER_WEIGHTS_FILE]: sha256Hex(weights!),
    }) === digest,
    `the files hash to another digest than ${digest}`,
  );

  const signed: Signed = (kind, subjectId, keys) => {
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
      !!bytes && sha256Hex(bytes) === file.sha256,
      'its bytes do not match the signed digest',
    );
  }
  return { signed, files };
}

/** The provenance is SLSA, about this adapter, on this parent; returns a lookup of its dependencies. */
function verifyProvenance(
  v: ExportedVersion,
  parent: ExportedVersion | undefined,
  provenance: Statement<SlsaProvenancePredicate>,
  ctx: Context,
): (name: string) => string | undefined {
  const { check } = ctx;
  const at = `adapter ${str(v.version.id)}`;
  check(
    `${at} provenance type`,
    provenance.predicateType === SLSA_PROVENANCE_PREDICATE_TYPE,
    'not SLSA provenance',
  );
  check(
    `${at} provenance subject`,
    provenance.subject[0]?.digest?.sha256 === str(v.version.digest),
    'it is about another adapter',
  );
  const dependency = (name: string) =>
    provenance.predicate.buildDefinition.resolvedDependencies?.find((d) => d.name === name)?.digest?.sha256;
  const parentDigest = parent ? str(parent.version.digest) : undefined;
  check(
    `${at} provenance parent`,
    dependency(`parent/${parentDigest}`) === parentDigest,
    'it was built on another parent',
  );
  return dependency;
}

/** Gate reports: unchanged, signed, logged, and every required gate passed (or warned). */
function verifyReports(v: ExportedVersion, requiredGates: string[], signed: Signed, ctx: Context): void {
  const { check } = ctx;
  for (const report of v.reports) {
    const what = `gate report ${str(report.gate)} (${str(report.id)})`;
    const recomputed = gateReportDigest({
      ...(report as unknown as GateReportEntity),
      createdAt: new Date(str(report.createdAt)),
    });
    check(what, recomputed === report.sha256, 'its content does not match its digest');
    check(
      `${what} in the log`,
      ctx.logged(AuditAction.GATE_REPORTED, str(report.id), (a) => a.sha256 === report.sha256),
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
        result.predicate.configuration[0]?.digest?.sha256 === report.sha256 &&
        result.subject[0]?.digest?.sha256 === str(v.version.digest),
      'the signed test result is about another report or adapter',
    );
  }
  for (const gate of requiredGates) {
    const reports = v.reports.filter((r) => r.gate === gate);
    check(
      `adapter ${str(v.version.id)} required gate ${gate}`,
      reports.length > 0 && reports.every((r) => r.verdict !== 'FAIL'),
      'no passing report',
    );
  }
}

function verifySigned(
  attestation: ExportedAttestation,
  what: string,
  keys: KeyObject[],
  ctx: Context,
): Statement {
  ctx.check(
    `${what} digest`,
    sha256Hex(attestation.bundle) === attestation.sha256,
    'the bundle does not match its digest',
  );
  ctx.check(
    `${what} in the log`,
    ctx.logged(AuditAction.ATTESTATION_RECORDED, attestation.id, (a) => a.sha256 === attestation.sha256),
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
