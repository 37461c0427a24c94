/**
 * Every audit action name. Each value is hashed into the audit chain and matched by the offline bundle
 * verifier, so a value never changes; a new action gets a new name.
 */
export enum AuditAction {
  ACCESS_DENIED = 'access.denied',
  PRINCIPAL_CREATED = 'principal.created',
  PRINCIPAL_ENABLED = 'principal.enabled',
  PRINCIPAL_DISABLED = 'principal.disabled',
  API_KEY_CREATED = 'api_key.created',
  API_KEY_REVOKED = 'api_key.revoked',
  API_KEY_LIMITS_SET = 'api_key.limits_set',
  CHANNEL_CREATED = 'channel.created',
  CHANNEL_APPLIED = 'channel.applied',
  CHANNEL_ROLLED_BACK = 'channel.rolled_back',
  CHANNEL_REVERTED = 'channel.reverted',
  CHANNEL_REVERT_REFUSED = 'channel.revert_refused',
  KNOWLEDGE_ADDED = 'knowledge.added',
  SELF_EDIT_PROPOSED = 'self_edit.proposed',
  SELF_EDIT_STATUS_CHANGED = 'self_edit.status_changed',
  SELF_EDIT_APPROVED = 'self_edit.approved',
  SELF_EDIT_REJECTED = 'self_edit.rejected',
  GATE_REPORTED = 'gate.reported',
  ATTESTATION_RECORDED = 'attestation.recorded',
  REVIEW_WEBHOOK_DELIVERED = 'review.webhook_delivered',
  SEAL_ROUND_STARTED = 'seal_round.started',
  SEAL_ROUND_CANCELLED = 'seal_round.cancelled',
  SEAL_ROUND_FINISHED = 'seal_round.finished',
  AUDIT_CHAIN_VERIFIED = 'audit.chain_verified',
  /** Privileged reads (AuditedCall). */
  AUDIT_READ = 'audit.read',
  AUDIT_VERIFIED = 'audit.verified',
  LINEAGE_GRAPH_READ = 'lineage.graph_read',
  /** A product request refused an adapter it may not serve (ADAPTER_NOT_SERVABLE, ADAPTER_TAMPERED). */
  SERVING_REFUSED = 'serving.refused',
}
