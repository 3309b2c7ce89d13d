/**
 * The zod schemas of every HTTP query and body (API-5): unknown fields are refused, so a typo
 * gets an error naming it instead of being silently ignored. Text is kept verbatim.
 */
import { z } from 'zod';
import { AUTO_ASSIGN_STRATEGIES } from '../../src-shared/domain/autoassign.js';
import { EXCEPTION_KINDS, MAX_REASON_LENGTH } from '../../src-shared/domain/rules.js';
import { ROLES, TASK_STATUSES } from '../../src-shared/domain/types.js';
import { idSchema } from '../../src-shared/protocol/terminal.js';
import { badgeSchema, pinSchema } from '../../src-shared/domain/credentials.js';

export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 50;

/** A whole number given as a query-string parameter. */
const intParam = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional();

const paging = {
  limit: intParam(1, MAX_PAGE),
  offset: intParam(0, 1_000_000_000),
};

/** Text that must hold something besides spaces; kept exactly as given. */
const name = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => s.trim().length > 0, 'must not be empty');

export function pageOf(q: { limit?: number | undefined; offset?: number | undefined }): { limit: number; offset: number } {
  return { limit: q.limit ?? DEFAULT_PAGE, offset: q.offset ?? 0 };
}

export const tasksQuery = z
  .object({
    departmentId: idSchema.optional(),
    status: z.enum(TASK_STATUSES).optional(),
    operatorId: idSchema.optional(),
    workOrder: z.string().min(1).max(100).optional(),
    q: z.string().min(1).max(200).optional(),
    ...paging,
  })
  .strict();

export const claimableQuery = z.object({ userId: idSchema.optional(), ...paging }).strict();

export const candidatesQuery = z.object({ mode: z.enum(['assign', 'reassign']).optional() }).strict();

export const exceptionsQuery = z
  .object({
    departmentId: idSchema.optional(),
    open: z.enum(['true', 'false']).optional(),
    kind: z.enum(EXCEPTION_KINDS).optional(),
    taskId: idSchema.optional(),
    ...paging,
  })
  .strict();

/** A time in a query: epoch milliseconds or an ISO 8601 date-time with an offset. */
const timeParam = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    const t = /^\d{1,15}$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(t)) {
      ctx.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an ISO 8601 time with an offset (e.g. 2026-11-26T06:00:00Z)' });
      return z.NEVER;
    }
    return t;
  })
  .optional();

export const auditQuery = z
  .object({
    departmentId: idSchema.optional(),
    taskId: idSchema.optional(),
    workOrder: z.string().min(1).max(100).optional(),
    userId: idSchema.optional(),
    action: z.string().min(1).max(64).optional(),
    /** An outcome (applied, an error code), or "refused" for every refusal. */
    outcome: z.string().min(1).max(64).optional(),
    terminalId: idSchema.optional(),
    from: timeParam,
    to: timeParam,
    format: z.enum(['json', 'csv']).optional(),
    ...paging,
  })
  .strict();

export const noQuery = z.object({}).strict();
export const limitQuery = z.object({ limit: intParam(1, MAX_PAGE) }).strict();

export const emptyBody = z.object({}).strict();
/** PATCH /api/config: some of the site settings (checked whole after merging with the rest). */
export const configPatchBody = z.record(z.string().max(64), z.unknown()).refine((o) => Object.keys(o).length > 0, 'name at least one setting to change');
export const rejectBody = z.object({ reason: z.string().max(MAX_REASON_LENGTH * 2) }).strict();
export const assignBody = z.object({ userId: idSchema }).strict();

export const autoAssignBody = z
  .object({
    strategy: z.enum(AUTO_ASSIGN_STRATEGIES),
    capacityWeight: z.number().min(0).max(1).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    /** AUTO-6: decide as a real run would, then keep nothing: a preview. */
    dryRun: z.boolean().optional(),
  })
  .strict();

export const cancelBody = z.object({ reason: z.string().max(MAX_REASON_LENGTH * 2) }).strict();

export const signInBody = z
  .object({
    badge: z.string().min(1).max(128).optional(),
    pin: z.string().min(1).max(32).optional(),
    userId: idSchema.optional(),
    password: z.string().min(1).max(200).optional(),
    /** AUTH-8: keep the session in an HttpOnly cookie instead of returning the token. */
    cookie: z.boolean().optional(),
    /** SUP-1: signing in to the supervisor overview: only supervisors and admins. */
    for: z.literal('supervisor').optional(),
  })
  .strict();

export const notificationsReadBody = z
  .object({ ids: z.array(z.number().int().positive()).min(1).max(1000).optional(), all: z.literal(true).optional() })
  .strict();

const taskLimit = z.number().int().min(0).max(1000).nullable();

export const departmentCreateBody = z.object({ id: idSchema, name: name(200), taskLimit: taskLimit.optional() }).strict();
export const departmentUpdateBody = z.object({ name: name(200).optional(), taskLimit: taskLimit.optional() }).strict();

const pin = pinSchema;
const password = z.string().min(8, 'must be at least 8 characters').max(200);
const badge = badgeSchema;
const roles = z.array(z.enum(ROLES)).min(1, 'needs at least one role').max(3);
const skills = z.array(z.string().min(1).max(64)).max(50);

export const usersQuery = z
  .object({ departmentId: idSchema.optional(), role: z.enum(ROLES).optional(), active: z.enum(['true', 'false']).optional() })
  .strict();

export const userCreateBody = z
  .object({
    id: idSchema,
    displayName: name(200),
    roles,
    departmentIds: z.array(idSchema).max(200).default([]),
    badge: badge.nullable().optional(),
    pin: pin.nullable().optional(),
    password: password.nullable().optional(),
    active: z.boolean().default(true),
    taskLimit: taskLimit.optional(),
    skills: skills.default([]),
    qualityScore: z.number().min(0).max(1).optional(),
  })
  .strict();

export const userPatchBody = z
  .object({
    displayName: name(200).optional(),
    roles: roles.optional(),
    departmentIds: z.array(idSchema).max(200).optional(),
    badge: badge.nullable().optional(),
    pin: pin.nullable().optional(),
    password: password.nullable().optional(),
    active: z.boolean().optional(),
    taskLimit: taskLimit.optional(),
    skills: skills.optional(),
    qualityScore: z.number().min(0).max(1).optional(),
  })
  .strict();

export const terminalCreateBody = z
  .object({ id: idSchema, name: name(200), departments: z.array(idSchema).min(1, 'needs at least one department').max(200) })
  .strict();

export const terminalPatchBody = z
  .object({
    name: name(200).optional(),
    departments: z.array(idSchema).min(1, 'needs at least one department').max(200).optional(),
    active: z.boolean().optional(),
    rotateToken: z.literal(true).optional(),
  })
  .strict();

export const tokensQuery = z.object({ userId: idSchema.optional() }).strict();

export const tokenCreateBody = z
  .object({
    userId: idSchema,
    name: name(100),
    /** Days until the token expires; omitted or null = never. */
    expiresInDays: z.number().int().min(1).max(3650).nullable().optional(),
  })
  .strict();
