import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { CommonError } from 'src/common/errors/domain-error';
import { TransactionRunner } from 'src/database/transaction-runner';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { AbilityFactory } from 'src/auth/ability.factory';
import { ApiKeyCache, KnownKey } from 'src/auth/api-key-cache';
import { ApiKeyEntity, ApiKeyLimits, limitsOf } from 'src/auth/api-key.entity';
import { newApiKeyToken, parseToken, tokenMatches } from 'src/auth/api-key-token';
import { AuthContext } from 'src/auth/auth-context';
import { AuthError, AuthErrorCode } from 'src/auth/auth.errors';
import { Action, Subject } from 'src/auth/policy';
import { PrincipalEntity } from 'src/auth/principal.entity';
import { PrincipalsRepository } from 'src/auth/principals.repository';
import { Role } from 'src/auth/role';

export interface CreatedApiKey {
  apiKey: ApiKeyEntity;
  /** The only time the plaintext token exists outside the caller's hands. */
  token: string;
}

/** lastUsedAt is written at most this often per key, so authentication is not a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

const principalSnapshot = (p: PrincipalEntity) => ({
  id: p.id,
  name: p.name,
  role: p.role,
  disabledAt: p.disabledAt,
});
const keySnapshot = (k: ApiKeyEntity) => ({
  id: k.id,
  principalId: k.principalId,
  label: k.label,
  prefix: k.prefix,
  expiresAt: k.expiresAt,
  revokedAt: k.revokedAt,
  ...limitsOf(k),
});

@Injectable()
export class PrincipalsService {
  constructor(
    private readonly repository: PrincipalsRepository,
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditService,
    private readonly abilities: AbilityFactory,
    private readonly keys: ApiKeyCache,
  ) {}

  /** Resolves a bearer token to the caller, or explains exactly why it cannot. */
  async authenticate(token: string, requestId?: string): Promise<AuthContext> {
    const parsed = parseToken(token);
    const known = parsed ? await this.keys.get(parsed.prefix, () => this.loadKey(parsed.prefix)) : null;
    const key = known?.key;
    if (!key || !tokenMatches(token, key.secretHash)) {
      throw new AuthError(AuthErrorCode.INVALID_API_KEY, 'The API key is not valid');
    }
    const now = new Date();
    if (key.revokedAt) throw new AuthError(AuthErrorCode.API_KEY_REVOKED, 'The API key has been revoked');
    if (key.expiresAt && key.expiresAt <= now) {
      throw new AuthError(
        AuthErrorCode.API_KEY_EXPIRED,
        `The API key expired at ${key.expiresAt.toISOString()}`,
      );
    }
    if (key.principal.disabledAt)
      throw new AuthError(AuthErrorCode.PRINCIPAL_DISABLED, 'The principal is disabled');
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      await this.repository.touchKey(key.id, now);
      key.lastUsedAt = now; // the cached row too, so the next requests do not write it again
    }
    return new AuthContext(key.principal, known.ability, requestId, key.id, limitsOf(key));
  }

  /** Calls `listener` after every change that may revoke a key (in this process or another); see ApiKeyCache. */
  onAuthChanged(listener: () => void): void {
    this.keys.onChange(listener);
  }

  private async loadKey(prefix: string): Promise<KnownKey | null> {
    const key = await this.repository.findKeyByPrefix(prefix);
    if (!key?.principal) return null;
    return { key: key as KnownKey['key'], ability: this.abilities.forPrincipal(key.principal) };
  }

  async get(ctx: AuthContext, id: string): Promise<PrincipalEntity> {
    const principal = await this.repository.findById(id);
    if (!principal) throw CommonError.notFound('Principal', id);
    ctx.assertCan(Action.read, Subject.Principal, principal);
    return principal;
  }

  async list(ctx: AuthContext): Promise<PrincipalEntity[]> {
    return (await this.repository.list()).filter((p) => ctx.can(Action.read, Subject.Principal, p));
  }

  create(ctx: AuthContext, name: string, role: Role): Promise<PrincipalEntity> {
    ctx.assertCan(Action.create, Subject.Principal, { name, role });
    return this.transactions.run((manager) => this.insertPrincipal(manager, ctx.actor, name, role));
  }

  async setDisabled(ctx: AuthContext, id: string, disabled: boolean): Promise<PrincipalEntity> {
    return this.changingAuth(async (manager) => {
      const principal = await this.repository.findById(id, manager);
      if (!principal) throw CommonError.notFound('Principal', id);
      ctx.assertCan(Action.update, Subject.Principal, principal);
      const before = principalSnapshot(principal);
      principal.disabledAt = disabled ? (principal.disabledAt ?? new Date()) : null;
      const saved = await this.repository.save(manager, principal);
      await this.audit.append(manager, ctx.actor, {
        action: disabled ? AuditAction.PRINCIPAL_DISABLED : AuditAction.PRINCIPAL_ENABLED,
        subjectType: Subject.Principal,
        subjectId: id,
        before,
        after: principalSnapshot(saved),
      });
      return saved;
    });
  }

  async listKeys(ctx: AuthContext, principalId?: string): Promise<ApiKeyEntity[]> {
    return (await this.repository.listKeys(principalId)).filter((k) =>
      ctx.can(Action.read, Subject.ApiKey, k),
    );
  }

  async createKey(
    ctx: AuthContext,
    principalId: string,
    label: string,
    expiresAt: Date | null,
  ): Promise<CreatedApiKey> {
    ctx.assertCan(Action.create, Subject.ApiKey, { principalId });
    return this.transactions.run(async (manager) => {
      const principal = await this.repository.findById(principalId, manager);
      if (!principal) throw CommonError.notFound('Principal', principalId);
      return this.insertKey(manager, ctx.actor, principal, label, expiresAt);
    });
  }

  async revokeKey(ctx: AuthContext, id: string): Promise<ApiKeyEntity> {
    return this.changingAuth(async (manager) => {
      const key = await this.repository.findKeyById(id, manager);
      if (!key) throw CommonError.notFound('ApiKey', id);
      ctx.assertCan(Action.revoke, Subject.ApiKey, key);
      if (key.revokedAt) return key;
      const before = keySnapshot(key);
      key.revokedAt = new Date();
      const saved = await this.repository.saveKey(manager, key);
      await this.audit.append(manager, ctx.actor, {
        action: AuditAction.API_KEY_REVOKED,
        subjectType: Subject.ApiKey,
        subjectId: id,
        before,
        after: keySnapshot(saved),
      });
      return saved;
    });
  }

  /** Sets (or, with null, clears) a key's own limits; KeyLimitsService applies them from the next request. */
  async setKeyLimits(ctx: AuthContext, id: string, limits: ApiKeyLimits): Promise<ApiKeyEntity> {
    return this.changingAuth(async (manager) => {
      const key = await this.repository.findKeyById(id, manager);
      if (!key) throw CommonError.notFound('ApiKey', id);
      ctx.assertCan(Action.update, Subject.ApiKey, key);
      const before = keySnapshot(key);
      Object.assign(key, limitsOf(limits));
      const saved = await this.repository.saveKey(manager, key);
      await this.audit.append(manager, ctx.actor, {
        action: AuditAction.API_KEY_LIMITS_SET,
        subjectType: Subject.ApiKey,
        subjectId: id,
        before,
        after: keySnapshot(saved),
      });
      return saved;
    });
  }

  /**
   * A change that can alter what a key authenticates as (revoked, disabled, new limits): committed, then every
   * process's ApiKeyCache is told, so it holds from the next request everywhere.
   */
  private async changingAuth<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const result = await this.transactions.run(work);
    await this.keys.changed();
    return result;
  }

  /**
   * Creates the first admin and its key. Refuses when an admin already exists unless `force` is set (for a
   * lost key), so a leaked bootstrap command cannot mint admins on a running system.
   */
  bootstrapAdmin(actor: Actor, name: string, force = false): Promise<CreatedApiKey> {
    return this.transactions.run(async (manager) => {
      const admins = await this.repository.countByRole(Role.admin, manager);
      if (admins > 0 && !force) {
        throw new AuthError(
          AuthErrorCode.ALREADY_BOOTSTRAPPED,
          'An admin already exists; pass --force to add a key',
        );
      }
      const principal =
        (await this.repository.findByName(name, manager)) ??
        (await this.insertPrincipal(manager, actor, name, Role.admin));
      if (principal.role !== Role.admin) {
        throw new AuthError(AuthErrorCode.PRINCIPAL_NAME_TAKEN, `${name} exists and is not an admin`);
      }
      return this.insertKey(manager, actor, principal, 'bootstrap', null);
    });
  }

  private async insertPrincipal(manager: EntityManager, actor: Actor, name: string, role: Role) {
    if (await this.repository.findByName(name, manager)) {
      throw new AuthError(AuthErrorCode.PRINCIPAL_NAME_TAKEN, `A principal named ${name} already exists`);
    }
    const principal = await this.repository.save(
      manager,
      Object.assign(new PrincipalEntity(), {
        id: randomUUID(),
        name,
        role,
        createdAt: new Date(),
        disabledAt: null,
      }),
    );
    await this.audit.append(manager, actor, {
      action: AuditAction.PRINCIPAL_CREATED,
      subjectType: Subject.Principal,
      subjectId: principal.id,
      after: principalSnapshot(principal),
    });
    return principal;
  }

  private async insertKey(
    manager: EntityManager,
    actor: Actor,
    principal: PrincipalEntity,
    label: string,
    expiresAt: Date | null,
  ): Promise<CreatedApiKey> {
    const { token, prefix, secretHash } = newApiKeyToken();
    const apiKey = await this.repository.saveKey(
      manager,
      Object.assign(new ApiKeyEntity(), {
        id: randomUUID(),
        principalId: principal.id,
        label,
        prefix,
        secretHash,
        createdAt: new Date(),
        expiresAt,
        revokedAt: null,
        lastUsedAt: null,
        requestsPerMinute: null,
        maxTokensPerRequest: null,
        maxConcurrentStreams: null,
      }),
    );
    await this.audit.append(manager, actor, {
      action: AuditAction.API_KEY_CREATED,
      subjectType: Subject.ApiKey,
      subjectId: apiKey.id,
      after: keySnapshot(apiKey),
    });
    return { apiKey, token };
  }
}
