import { Field, ObjectType, registerEnumType } from '@nestjs/graphql';

/** What a node of the lineage graph is; its id is `${type}:${subjectId}`. */
export enum LineageNodeType {
  CHANNEL = 'CHANNEL',
  ADAPTER_VERSION = 'ADAPTER_VERSION',
  SELF_EDIT = 'SELF_EDIT',
  KNOWLEDGE_SOURCE = 'KNOWLEDGE_SOURCE',
  GATE_REPORT = 'GATE_REPORT',
  APPROVAL = 'APPROVAL',
  ATTESTATION = 'ATTESTATION',
}
registerEnumType(LineageNodeType, { name: 'LineageNodeType' });

/** How two nodes are related; every edge points from the later or derived node to what it rests on. */
export enum LineageEdgeType {
  /** Channel -> the adapter version at its head. */
  HEAD = 'HEAD',
  /** Adapter version -> the version it was trained (or built) on top of. */
  PARENT = 'PARENT',
  /** Adapter version -> the self-edit it was trained from. */
  TRAINED_FROM = 'TRAINED_FROM',
  /** Self-edit -> the knowledge source (passage) it was written from. */
  DERIVED_FROM = 'DERIVED_FROM',
  /** Gate report -> the self-edit it judged. */
  REPORT_OF = 'REPORT_OF',
  /** Approval or rejection -> the self-edit decided on. */
  APPROVAL_OF = 'APPROVAL_OF',
  /** Signed statement -> what it is about (adapter version, gate report, approval, channel). */
  ATTESTS = 'ATTESTS',
  /** Revert version -> the adapter version it took out of the stack. */
  REVERTS = 'REVERTS',
  /** Revert version -> each version whose weights it carries (those that sat above the one removed). */
  CARRIES = 'CARRIES',
}
registerEnumType(LineageEdgeType, { name: 'LineageEdgeType' });

@ObjectType('LineageNode', { description: 'One record of a lineage: its typed id and key fields.' })
export class LineageNodeModel {
  @Field({ description: 'Typed id, `TYPE:subjectId`; edges refer to it.' }) id!: string;
  @Field(() => LineageNodeType) type!: LineageNodeType;
  @Field({ description: 'The id of the record itself (query it by its own type).' }) subjectId!: string;
  @Field({ description: 'A short human-readable name.' }) label!: string;
  @Field(() => String, {
    nullable: true,
    description: 'SHA-256 the record is addressed or signed by (adapter files, content, report, bundle).',
  })
  digest!: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'Adapter or edit status, gate verdict, approval decision or attestation kind.',
  })
  status!: string | null;
  @Field(() => Date, { nullable: true }) at!: Date | null;
  @Field({ description: 'Further key fields of the record, as JSON.' }) detailsJson!: string;
}

@ObjectType('LineageEdge')
export class LineageEdgeModel {
  @Field({ description: 'Typed id of the node the edge starts from.' }) from!: string;
  @Field({ description: 'Typed id of the node it points to.' }) to!: string;
  @Field(() => LineageEdgeType) type!: LineageEdgeType;
}

@ObjectType('LineageGraph', {
  description:
    'The lineage of a channel or an adapter version: every adapter down to the base model, the edits and passages they were trained from, their gate reports, approvals and signed statements. Records the caller may not read are left out, with their edges.',
})
export class LineageGraphModel {
  @Field(() => String, { description: 'Typed id of the node the graph was asked for.' }) root!: string;
  @Field(() => [LineageNodeModel]) nodes!: LineageNodeModel[];
  @Field(() => [LineageEdgeModel]) edges!: LineageEdgeModel[];
}
