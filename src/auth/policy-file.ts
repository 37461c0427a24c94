import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { Action, Subject } from 'src/auth/policy';
import { Role } from 'src/auth/role';

const oneOrMany = <T extends z.ZodTypeAny>(schema: T) =>
  z
    .union([schema, z.array(schema).nonempty()])
    .transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const ruleSchema = z
  .object({
    action: oneOrMany(z.nativeEnum(Action)),
    subject: oneOrMany(z.nativeEnum(Subject)),
    /** MongoDB-style conditions; `${principal.id}` is replaced by the caller's id. */
    conditions: z.record(z.unknown()).optional(),
    fields: z.array(z.string()).optional(),
    inverted: z.boolean().optional(),
    reason: z.string().optional(),
  })
  .strict();

export const policyFileSchema = z
  .object({
    version: z.literal(1),
    roles: z
      .object(
        Object.fromEntries(Object.values(Role).map((role) => [role, z.array(ruleSchema)])) as Record<
          Role,
          z.ZodArray<typeof ruleSchema>
        >,
      )
      .strict(),
  })
  .strict();

export type PolicyFile = z.infer<typeof policyFileSchema>;
export type PolicyRule = z.infer<typeof ruleSchema>;

export class PolicyFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`Invalid policy file ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PolicyFileError';
  }
}

/** Loads and validates the access policy; the process refuses to start on any problem, naming where it is. */
export function loadPolicyFile(file: string): PolicyFile {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PolicyFileError(file, [(err as Error).message]);
  }
  const parsed = policyFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyFileError(
      file,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return parsed.data;
}
