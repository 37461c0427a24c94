import { Injectable } from '@nestjs/common';
import { ApprovalEntity } from 'src/approvals/approval.entity';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelEntity } from 'src/channels/channel.entity';
import { ChannelsService } from 'src/channels/channels.service';
import { CommonError, CommonErrorCode } from 'src/common/errors/domain-error';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';
import { AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { AttestationEntity } from 'src/attestation/attestation.entity';
import { EditRecords } from 'src/lineage/edit-records';
import {
  LineageEdgeModel,
  LineageEdgeType,
  LineageGraphModel,
  LineageNodeModel,
  LineageNodeType,
} from 'src/lineage/graph/lineage-graph.model';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';

interface PendingNode {
  node: LineageNodeModel;
  /** The policy subject and record the caller must be allowed to read for the node to be shown. */
  subject: Subject;
  record: object;
}

const nodeId = (type: LineageNodeType, subjectId: string): string => `${type}:${subjectId}`;

/**
 * Builds the lineage of a channel or an adapter version as a graph, for auditors: from the head down through
 * every parent to the base model, with the edit each version was trained from, its passage, every gate report
 * and approval of the edit, and the signed statements about all of them. Each node is checked against the
 * caller's abilities; what they may not read is left out with its edges.
 */
@Injectable()
export class LineageGraphService {
  constructor(
    private readonly versions: AdapterVersionsRepository,
    private readonly channels: ChannelsService,
    private readonly records: EditRecords,
  ) {}

  /** A channel's applied stack, head first, down to the base model. */
  async stackOf(channelName: string): Promise<AdapterVersionEntity[]> {
    const { headAdapterId } = await this.channels.getByName(channelName);
    return this.versions.chainOf(headAdapterId);
  }

  async build(
    ctx: AuthContext,
    target: { channel?: string | null; adapterVersionId?: string | null },
  ): Promise<LineageGraphModel> {
    if (!!target.channel === !!target.adapterVersionId) {
      throw new CommonError(CommonErrorCode.VALIDATION_FAILED, 'give a channel or an adapterVersionId');
    }
    const graph = new GraphBuilder();
    let root: string;
    let headId: string | null;
    if (target.channel) {
      const channel = await this.channels.getByName(target.channel);
      root = graph.add(channelNode(channel));
      headId = channel.headAdapterId;
      if (headId) graph.edge(root, nodeId(LineageNodeType.ADAPTER_VERSION, headId), LineageEdgeType.HEAD);
    } else {
      headId = target.adapterVersionId!;
      root = nodeId(LineageNodeType.ADAPTER_VERSION, headId);
    }

    const versions = await this.withReverted(await this.versions.chainOf(headId));
    const editIds = versions.flatMap((v) => (v.selfEditId ? [v.selfEditId] : []));
    const { edits, sources, reports, approvals } = await this.records.of(editIds);

    for (const v of versions) {
      const id = graph.add(versionNode(v));
      if (v.parentId)
        graph.edge(id, nodeId(LineageNodeType.ADAPTER_VERSION, v.parentId), LineageEdgeType.PARENT);
      if (v.selfEditId)
        graph.edge(id, nodeId(LineageNodeType.SELF_EDIT, v.selfEditId), LineageEdgeType.TRAINED_FROM);
      if (v.revert) {
        const { removedAdapterVersionId, carried } = v.revert;
        graph.edge(
          id,
          nodeId(LineageNodeType.ADAPTER_VERSION, removedAdapterVersionId),
          LineageEdgeType.REVERTS,
        );
        for (const c of carried)
          graph.edge(
            id,
            nodeId(LineageNodeType.ADAPTER_VERSION, c.adapterVersionId),
            LineageEdgeType.CARRIES,
          );
      }
    }
    for (const e of edits) {
      const id = graph.add(editNode(e));
      if (e.knowledgeSourceId) {
        graph.edge(
          id,
          nodeId(LineageNodeType.KNOWLEDGE_SOURCE, e.knowledgeSourceId),
          LineageEdgeType.DERIVED_FROM,
        );
      }
    }
    sources.forEach((s) => graph.add(sourceNode(s)));
    for (const r of reports) {
      graph.edge(
        graph.add(reportNode(r)),
        nodeId(LineageNodeType.SELF_EDIT, r.selfEditId),
        LineageEdgeType.REPORT_OF,
      );
    }
    for (const a of approvals) {
      graph.edge(
        graph.add(approvalNode(a)),
        nodeId(LineageNodeType.SELF_EDIT, a.selfEditId),
        LineageEdgeType.APPROVAL_OF,
      );
    }

    // Signed statements about any record in the graph (rollbacks are about the channel).
    const attested = new Map<string, string>();
    for (const { node } of graph.pending.values()) {
      if (node.type !== LineageNodeType.SELF_EDIT && node.type !== LineageNodeType.KNOWLEDGE_SOURCE)
        attested.set(node.subjectId, node.id);
    }
    const attestations = await this.records.attestationsAbout([...attested.keys()]);
    for (const a of attestations) {
      graph.edge(graph.add(attestationNode(a)), attested.get(a.subjectId)!, LineageEdgeType.ATTESTS);
    }
    return graph.visibleTo(ctx, root);
  }

  /** The versions plus, for every revert among them, the version it removed and those it carries. */
  private async withReverted(chain: AdapterVersionEntity[]): Promise<AdapterVersionEntity[]> {
    const versions = new Map(chain.map((v) => [v.id, v]));
    const reverts = chain.filter((v) => v.revert);
    for (let r = reverts.pop(); r; r = reverts.pop()) {
      const ids = [r.revert!.removedAdapterVersionId, ...r.revert!.carried.map((c) => c.adapterVersionId)];
      for (const v of await this.versions.findByIds(ids)) {
        if (versions.has(v.id)) continue;
        versions.set(v.id, v);
        if (v.revert) reverts.push(v);
      }
    }
    return [...versions.values()];
  }
}

class GraphBuilder {
  readonly pending = new Map<string, PendingNode>();
  private readonly edges: LineageEdgeModel[] = [];

  add(pending: PendingNode): string {
    this.pending.set(pending.node.id, pending);
    return pending.node.id;
  }

  edge(from: string, to: string, type: LineageEdgeType): void {
    this.edges.push(Object.assign(new LineageEdgeModel(), { from, to, type }));
  }

  /** Only nodes the caller may read, and only edges between two of them. */
  visibleTo(ctx: AuthContext, root: string): LineageGraphModel {
    const nodes = [...this.pending.values()]
      .filter((p) => ctx.can(Action.read, p.subject, p.record))
      .map((p) => p.node);
    const shown = new Set(nodes.map((n) => n.id));
    return Object.assign(new LineageGraphModel(), {
      root,
      nodes,
      edges: this.edges.filter((e) => shown.has(e.from) && shown.has(e.to)),
    });
  }
}

function node(
  type: LineageNodeType,
  subject: Subject,
  record: { id: string },
  fields: Pick<LineageNodeModel, 'label' | 'digest' | 'status' | 'at'>,
  details: Record<string, unknown>,
): PendingNode {
  return {
    subject,
    record,
    node: Object.assign(new LineageNodeModel(), {
      id: nodeId(type, record.id),
      type,
      subjectId: record.id,
      ...fields,
      detailsJson: JSON.stringify(details),
    }),
  };
}

const channelNode = (c: ChannelEntity) =>
  node(
    LineageNodeType.CHANNEL,
    Subject.Channel,
    c,
    { label: c.name, digest: null, status: null, at: c.createdAt },
    { baseModel: c.baseModel, headAdapterId: c.headAdapterId, version: c.version },
  );

const versionNode = (v: AdapterVersionEntity) =>
  node(
    LineageNodeType.ADAPTER_VERSION,
    Subject.AdapterVersion,
    v,
    {
      label: `${v.revert ? 'revert' : 'adapter'} ${v.digest.slice(0, 12)}`,
      digest: v.digest,
      status: v.status,
      at: v.createdAt,
    },
    {
      channelId: v.channelId,
      parentId: v.parentId,
      appliedAt: v.appliedAt,
      training: v.training,
      revert: v.revert,
    },
  );

const editNode = (e: SelfEditEntity) =>
  node(
    LineageNodeType.SELF_EDIT,
    Subject.SelfEdit,
    e,
    { label: `${e.kind} self-edit`, digest: e.contentSha256, status: e.status, at: e.createdAt },
    { kind: e.kind, origin: e.origin, pipelineRun: e.pipelineRun, proposedById: e.proposedById },
  );

const sourceNode = (s: KnowledgeSourceEntity) =>
  node(
    LineageNodeType.KNOWLEDGE_SOURCE,
    Subject.KnowledgeSource,
    s,
    { label: s.title, digest: s.contentSha256, status: null, at: s.createdAt },
    { sourceUri: s.sourceUri, provenance: s.provenance, submittedById: s.submittedById },
  );

const reportNode = (r: GateReportEntity) =>
  node(
    LineageNodeType.GATE_REPORT,
    Subject.GateReport,
    r,
    { label: `${r.gate}@${r.gateVersion}`, digest: r.sha256, status: r.verdict, at: r.createdAt },
    { gate: r.gate, gateVersion: r.gateVersion, pipelineRun: r.pipelineRun, metrics: r.metrics },
  );

const approvalNode = (a: ApprovalEntity) =>
  node(
    LineageNodeType.APPROVAL,
    Subject.Approval,
    a,
    {
      label: `${a.decision.toLowerCase()} by ${a.reviewerId}`,
      digest: null,
      status: a.decision,
      at: a.createdAt,
    },
    { reviewerId: a.reviewerId, pipelineRun: a.pipelineRun, comment: a.comment },
  );

const attestationNode = (a: AttestationEntity) =>
  node(
    LineageNodeType.ATTESTATION,
    Subject.Attestation,
    a,
    { label: `${a.kind} statement`, digest: a.sha256, status: a.kind, at: a.createdAt },
    { kind: a.kind, about: a.subjectId },
  );
