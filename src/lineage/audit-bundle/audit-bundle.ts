/**
 * An audit bundle: everything an auditor needs to verify a channel's lineage offline, without trusting the
 * server: the rows, the adapter files, the signed statements, the public keys, a signed checkpoint of the
 * transparency log and an inclusion proof for every event. Rows are JSON as stored (dates as ISO strings).
 */
export const AUDIT_BUNDLE_FORMAT = 'sealgate.audit-bundle/v1';

export type Row = Record<string, unknown>;

export interface ExportedKey {
  owner: string;
  keyId: string;
  publicKeyPem: string;
  createdAt: string;
  retiredAt: string | null;
}

export interface ExportedAttestation {
  id: string;
  kind: string;
  subjectId: string;
  /** The Sigstore bundle's JSON text, exactly as signed. */
  bundle: string;
  sha256: string;
}

export interface ExportedFile {
  path: string;
  base64: string;
}

export interface ExportedVersion {
  version: Row;
  /** The edit it was trained from; null for a revert version (`version.revert` says what it is). */
  edit: Row | null;
  source: Row | null;
  /** The gate reports and approvals of the edit's latest pipeline run (of a revert: its forgetting reports). */
  reports: Row[];
  approvals: Row[];
  /** About the version (model signature, provenance), its reports and its approvals. */
  attestations: ExportedAttestation[];
  /** Every file of the adapter folder but model.sig. */
  files: ExportedFile[];
  /**
   * Of a revert version: the versions it carries, oldest first, with their files, so that a verifier can rebuild
   * their rank concatenation and find this version's files.
   */
  carried?: { adapterVersionId: string; digest: string; files: ExportedFile[] }[];
}

export interface ExportedEvent {
  event: Row;
  /** Hex hashes of the inclusion proof of the event (leaf seq - 1) in the checkpoint's tree. */
  proof: string[];
}

export interface AuditBundle {
  format: typeof AUDIT_BUNDLE_FORMAT;
  exportedAt: string;
  log: {
    origin: string;
    checkpoint: string;
    /**
     * Every earlier checkpoint the gateway signed and published, with the consistency proof (hex hashes) from its
     * tree to the checkpoint's: the log of this bundle extends each of them. Absent in bundles from before.
     */
    earlier?: { note: string; proof: string[] }[];
  };
  keys: ExportedKey[];
  channel: Row;
  /** Head first, down to the version trained on the base model. */
  versions: ExportedVersion[];
  events: ExportedEvent[];
}
