/** What can be done (CASL actions). `manage` means any action. */
export enum Action {
  manage = 'manage',
  create = 'create',
  read = 'read',
  update = 'update',
  revoke = 'revoke',
  approve = 'approve',
  reject = 'reject',
  apply = 'apply',
  rollback = 'rollback',
  /** Take one applied edit out of the middle of a channel's stack. */
  revert = 'revert',
  verify = 'verify',
  query = 'query',
  /** Stop work that is under way (a ReST-EM round). */
  cancel = 'cancel',
}

/** What it can be done to (CASL subject types). `all` means every subject. */
export enum Subject {
  all = 'all',
  Principal = 'Principal',
  ApiKey = 'ApiKey',
  Channel = 'Channel',
  KnowledgeSource = 'KnowledgeSource',
  SelfEdit = 'SelfEdit',
  GateReport = 'GateReport',
  Approval = 'Approval',
  AdapterVersion = 'AdapterVersion',
  /** Signed statements about adapters, gate reports, approvals and rollbacks. */
  Attestation = 'Attestation',
  AuditEvent = 'AuditEvent',
  Model = 'Model',
  /** A ReST-EM round: self-edits sampled, trained and rewarded, and the generator fine-tuned on the best. */
  SealRound = 'SealRound',
}
