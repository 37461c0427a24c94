import { Injectable, Logger } from '@nestjs/common';
import { basename } from 'node:path';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { AuthContext } from 'src/auth/auth-context';
import { Subject } from 'src/auth/policy';
import { KeyLimitsService } from 'src/auth/key-limits.service';
import { ChannelsService } from 'src/channels/channels.service';
import { DomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';
import { InferenceErrorCode } from 'src/inference/inference.errors';
import { GenerationParams } from 'src/inference/generator';
import { ModelService, ServedResult } from 'src/inference/model.service';
import { ServingStack, ServingStackService, ServingTarget } from 'src/adapter-versions/serving-stack.service';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { MetricsService } from 'src/observability/metrics.service';
import { ServingError, ServingErrorCode } from 'src/serving/serving.errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Product traffic is served only what the approval workflow let through: a channel's stack is applied version by
 * version, and a pinned version (with everything under it) was applied once (it may have been rolled back or
 * carried on by a revert since). A candidate, or a version its gates discarded, never is.
 */
export function servable(stack: ServingStack): ServingStack {
  const refused = stack.versions.find((v) =>
    stack.channel === null ? !v.applied : v.status !== AdapterStatus.APPLIED,
  );
  if (refused) {
    throw new ServingError(
      ServingErrorCode.ADAPTER_NOT_SERVABLE,
      `adapter version ${refused.id} is ${refused.status}: only adapters approved and applied to a channel are served`,
      { adapterVersionId: refused.id, status: refused.status },
    );
  }
  return stack;
}

/** The refusals of an adapter the request may not be served: each is counted and audited. */
const ADAPTER_REFUSALS = new Set<string>([
  ServingErrorCode.ADAPTER_NOT_SERVABLE,
  InferenceErrorCode.ADAPTER_TAMPERED,
]);

/** What a request resolved, kept for the audit event of a refusal. */
interface Resolved {
  stack?: ServingStack;
}

/** An OpenAI `model` name: an adapter version id, else a channel name. */
export const targetOfModel = (model: string): ServingTarget =>
  UUID.test(model) ? { adapterVersionId: model } : { channel: model };

/** Which model produced an answer: the stack actually used, for audit. */
export interface ServedBy {
  channel: string | null;
  headAdapterId: string | null;
  baseModelDigest: string;
  /** The adapters that served the (first) answer: the stack's adapters that routed to its prompt. */
  adapterDigests: string[];
  /** Every adapter of the resolved stack, base first. */
  stackAdapterDigests: string[];
}

export interface ServingRequest {
  /** A channel, a pinned adapter version, or (neither) the base model. */
  target: ServingTarget;
  /** One row per prompt. */
  prompts: string[];
  params: GenerationParams;
  /** Stream: text of row `index` as it becomes final. Holds one of the key's stream places while it runs. */
  onText?: (index: number, delta: string) => void;
  /** Aborted when the client goes away: its rows leave the batch at the next step. */
  signal?: AbortSignal;
}

export interface ServingOutcome {
  results: ServedResult[];
  servedBy: ServedBy;
}

export interface ServedModel {
  id: string;
  createdAt: Date;
  headAdapterId: string | null;
  baseModel: string;
}

/**
 * Product-facing generation (the OpenAI-compatible API and the GraphQL stream): per-key limits first, then the
 * model name resolved to an adapter stack, then the shared continuous batch (refusing at once when full).
 */
@Injectable()
export class ServingService {
  private readonly logger = new Logger(ServingService.name);

  constructor(
    private readonly model: ModelService,
    private readonly stacks: ServingStackService,
    private readonly channels: ChannelsService,
    private readonly limits: KeyLimitsService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
  ) {}

  /** What `model` may name: every channel (adapter version ids are accepted too, but not listed). */
  async models(): Promise<ServedModel[]> {
    return (await this.channels.list()).map((c) => ({
      id: c.name,
      createdAt: c.createdAt,
      headAdapterId: c.headAdapterId,
      baseModel: c.baseModel,
    }));
  }

  async generate(auth: AuthContext, request: ServingRequest): Promise<ServingOutcome> {
    const seen: Resolved = {};
    try {
      // A stream's text goes out as it is made, so only a whole answer may start before its rate check.
      return !request.onText && this.limits.reserveRequest(auth)
        ? await this.runWhileChecking(auth, request, seen)
        : await this.checkThenRun(auth, request, seen);
    } catch (err) {
      if (err instanceof DomainError) {
        const failure = err as DomainError<string>;
        const refused = ADAPTER_REFUSALS.has(failure.code);
        if (failure.kind === ErrorKind.TOO_MANY_REQUESTS || refused) {
          this.metrics.servingRejected.inc({ reason: failure.code });
        }
        if (refused) await this.recordRefusal(auth, request.target, failure, seen.stack);
      }
      throw err;
    }
  }

  /**
   * One `serving.refused` event per refused request: the adapter by version id and digest, its status and the
   * code; never a path. The request is refused whether or not the event could be written.
   */
  private async recordRefusal(
    auth: AuthContext,
    target: ServingTarget,
    err: DomainError<string>,
    stack: ServingStack | undefined,
  ): Promise<void> {
    const { adapterVersionId, digest } = err.details ?? {};
    const digests = stack?.folders.map((folder) => basename(folder)) ?? [];
    const at = stack?.versions.findIndex((v, i) => v.id === adapterVersionId || digests[i] === digest) ?? -1;
    const version = at >= 0 ? stack?.versions[at] : undefined;
    const versionId = version?.id ?? (typeof adapterVersionId === 'string' ? adapterVersionId : null);
    try {
      await this.audit.record(auth.actor, {
        action: AuditAction.SERVING_REFUSED,
        subjectType: Subject.AdapterVersion,
        subjectId: versionId,
        after: {
          code: err.code,
          adapterVersionId: versionId,
          digest: at >= 0 ? digests[at] : typeof digest === 'string' ? digest : null,
          status: version?.status ?? null,
          channel: stack?.channel ?? target.channel ?? null,
          pinned: target.adapterVersionId ?? null,
        },
      });
    } catch (auditErr) {
      this.logger.error(
        { err: auditErr, code: err.code, adapterVersionId: versionId },
        'refusal not audited',
      );
    }
  }

  private async checkThenRun(
    auth: AuthContext,
    request: ServingRequest,
    seen: Resolved,
  ): Promise<ServingOutcome> {
    // The rate check (a Redis round trip) and the stack lookup (the database) run side by side; a refusal
    // by the limits still comes first, as if they had run in that order.
    const [limited, resolved] = await Promise.allSettled([
      this.limits.takeRequest(auth),
      this.resolve(request.target, seen),
    ]);
    if (limited.status === 'rejected') throw limited.reason;
    this.limits.checkMaxTokens(auth, request.params.maxTokens);
    if (resolved.status === 'rejected') throw resolved.reason;
    const release = request.onText ? await this.limits.openStream(auth) : null;
    try {
      return await this.run(request, resolved.value);
    } finally {
      await release?.();
    }
  }

  /**
   * For a key whose bucket had a token for this request at this replica's last reading (`reserveRequest`): the
   * generation starts first and the rate check runs beside it, so its Redis round trip (about a millisecond on
   * a small machine, most of it waking an idle CPU) adds nothing to the latency. A refusal, possible only when
   * other replicas emptied the bucket meanwhile, cancels the generation at its next step and is answered as
   * before, ahead of any other error.
   */
  private async runWhileChecking(
    auth: AuthContext,
    request: ServingRequest,
    seen: Resolved,
  ): Promise<ServingOutcome> {
    let stack: ServingStack;
    try {
      this.limits.checkMaxTokens(auth, request.params.maxTokens);
      stack = await this.resolve(request.target, seen);
    } catch (err) {
      await this.limits.takeRequest(auth, true);
      throw err;
    }
    const cancel = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, cancel.signal]) : cancel.signal;
    // Handed to the model before the Redis command is written: both writes wake somebody up.
    const running = this.run({ ...request, signal }, stack);
    running.catch(() => undefined); // awaited below, after the rate check
    try {
      await this.limits.takeRequest(auth, true);
    } catch (err) {
      cancel.abort();
      throw err;
    }
    return running;
  }

  private async run(request: ServingRequest, stack: ServingStack): Promise<ServingOutcome> {
    const { params } = request;
    const results = await this.model.serve(
      request.prompts.map((prompt, i) => ({
        prompt,
        adapterFolders: stack.folders,
        params: { ...params, seed: params.seed === undefined ? undefined : params.seed + i },
      })),
      { onText: request.onText, signal: request.signal },
    );
    return {
      results,
      servedBy: {
        channel: stack.channel,
        headAdapterId: stack.headAdapterId,
        baseModelDigest: this.model.baseModelDigest,
        adapterDigests: results[0]?.adapterDigests ?? [],
        stackAdapterDigests: stack.folders.map((folder) => basename(folder)),
      },
    };
  }

  private async resolve(target: ServingTarget, seen: Resolved): Promise<ServingStack> {
    const model = target.adapterVersionId ?? target.channel ?? 'base';
    try {
      seen.stack = await this.stacks.resolve(target);
      return await this.stacks.verifySignatures(servable(seen.stack));
    } catch (err) {
      if (err instanceof DomainError && err.kind === ErrorKind.NOT_FOUND) {
        throw new ServingError(
          ServingErrorCode.MODEL_NOT_FOUND,
          `model ${model} is neither a channel nor an adapter version (GET /v1/models lists the channels)`,
          { model },
        );
      }
      throw err;
    }
  }
}
