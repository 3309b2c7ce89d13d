/**
 * The supervisor subscription, protocol version 1 (docs/PROTOCOL.md, "Supervisor subscription"):
 * a live, scoped view of the floor for the supervisors' overview. Only types and schemas, like the
 * terminal protocol: one version integer, frames tagged by `type` and split by direction. Both
 * ends validate what they receive with these schemas.
 */
import { z } from 'zod';
import { siteConfigSchema } from '../domain/config.js';
import { EXCEPTION_KINDS } from '../domain/rules.js';
import { supervisionSettingsSchema } from '../domain/supervision.js';
import { ROLES } from '../domain/types.js';
import { departmentSchema, errorDataSchema, idSchema, syncTaskSchema, TASK_FIELD_CHECKS, type ValueCheck } from './terminal.js';

export const SUPERVISOR_PROTOCOL = 'supervisor';
export const SUPERVISOR_PROTOCOL_VERSION = 1;
export const MIN_SUPERVISOR_PROTOCOL_VERSION = 1;
/** Where the subscription is served (same port as the HTTP API). */
export const SUPERVISOR_PATH = '/supervise';
/** Frames from a supervisor's page larger than this close the connection: they only send small frames. */
export const SUPERVISOR_MAX_FRAME_BYTES = 64 * 1024;
/** Entities per change page. */
export const SUPERVISOR_PAGE_SIZE = 2000;

export const SUPERVISOR_CLOSE_CODES = {
  /** No session, or it expired or was revoked: sign in again. */
  unauthorized: 4401,
  /** Signed in, but not as a supervisor or administrator. */
  forbidden: 4403,
  /** The supervisor's departments or roles changed: reconnect for the new view. */
  rescoped: 4205,
  badHandshake: 4400,
  incompatible: 4426,
  slowConsumer: 4408,
  /** The page kept sending frames the server had to refuse (SEC-5). */
  tooManyErrors: 4429,
  shuttingDown: 1001,
} as const;

const epochMs = z.number().int().min(0).max(8.64e15);
const text = (max: number) => z.string().max(max);

// ---------------------------------------------------------------------------------------------
// What the board shows

/** A task on the board: the task itself (terminals' cooldown and worked-by details are left out). */
export const boardTaskSchema = syncTaskSchema.omit({ cooldowns: true, workedBy: true, assignment: true, lastRejection: true });
export type BoardTask = z.infer<typeof boardTaskSchema>;

/** The fields of a board task, in the order of the columns of a task table. */
export const TASK_FIELDS = [
  'id',
  'workOrderId',
  'workOrderNumber',
  'step',
  'workContent',
  'departmentId',
  'status',
  'operatorId',
  'operatorName',
  'priority',
  'dueAt',
  'requiredSkills',
  'version',
  'createdAt',
  'updatedAt',
] as const satisfies ReadonlyArray<keyof BoardTask>;

const fields = boardTaskSchema.shape;
type TaskField = (typeof TASK_FIELDS)[number];

/**
 * Tasks on the wire as a table: one array per field, all the same length. A page of 5,000 tasks is
 * half the bytes of 5,000 objects (no repeated keys) and parses faster. This zod form states the
 * rule; `checkTaskColumns` applies the same rule column by column (a page's 75,000 values checked
 * in a loop, not one zod call each), and a property test holds the two to the same answers.
 */
export const taskColumnsReferenceSchema = z
  .object(Object.fromEntries(TASK_FIELDS.map((f) => [f, z.array(fields[f])])) as { [F in TaskField]: z.ZodArray<(typeof fields)[F]> })
  .strict()
  .refine((c) => TASK_FIELDS.every((f) => c[f].length === c.id.length), 'every column must have one value per task');
export type TaskColumns = z.infer<typeof taskColumnsReferenceSchema>;

/** Each column's value rule: exactly the constraints of syncTaskSchema's field (the terminal protocol's checks). */
const COLUMN_CHECKS: Record<TaskField, ValueCheck> = TASK_FIELD_CHECKS;

/** The problem with a task table, or null when it is valid (same answers as the reference schema). */
export function checkTaskColumns(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'tasks must be an object of columns';
  const cols = value as Record<string, unknown>;
  for (const key of Object.keys(cols)) if (!(TASK_FIELDS as readonly string[]).includes(key)) return `tasks.${key} is not a task field`;
  const length = Array.isArray(cols.id) ? cols.id.length : -1;
  for (const f of TASK_FIELDS) {
    const col = cols[f];
    if (!Array.isArray(col)) return `tasks.${f} must be an array`;
    if (col.length !== length) return 'every column must have one value per task';
    const check = COLUMN_CHECKS[f];
    for (let i = 0; i < col.length; i++) if (!check(col[i])) return `tasks.${f}.${i} is not a valid ${f}`;
  }
  return null;
}

export const taskColumnsSchema = z.custom<TaskColumns>((v) => checkTaskColumns(v) === null, { message: 'is not a valid task table' });

export function toTaskColumns(tasks: readonly BoardTask[]): TaskColumns {
  const cols = Object.fromEntries(TASK_FIELDS.map((f) => [f, new Array<unknown>(tasks.length)])) as Record<string, unknown[]>;
  tasks.forEach((t, i) => {
    for (const f of TASK_FIELDS) cols[f]![i] = t[f];
  });
  return cols as unknown as TaskColumns;
}

export function fromTaskColumns(cols: TaskColumns): BoardTask[] {
  const out = new Array<BoardTask>(cols.id.length);
  for (let i = 0; i < out.length; i++) {
    const t: Record<string, unknown> = {};
    for (const f of TASK_FIELDS) t[f] = cols[f][i];
    out[i] = t as BoardTask;
  }
  return out;
}

export const personSchema = z
  .object({
    id: idSchema,
    displayName: text(200),
    roles: z.array(z.enum(ROLES)).max(3),
    /** Their departments within the viewer's scope. */
    departmentIds: z.array(idSchema).max(200),
    active: z.boolean(),
    skills: z.array(text(64)).max(50),
    /** Tasks they hold now, in every department (CAP-2). */
    activeCount: z.number().int().min(0),
    /** The limit that applies to them (CAP-1): their own, else the strictest of their departments', else the site's. */
    limit: z.number().int().min(0),
    /** PERF-1 over the configured window. */
    performance: z
      .object({
        score: z.number().min(0).max(1),
        submitted: z.number().int().min(0),
        rejected: z.number().int().min(0),
        expired: z.number().int().min(0),
      })
      .strict(),
    /**
     * Where they are signed in, if at a terminal; `terminalId` is null when that terminal serves
     * none of the viewer's departments (it is not named to them).
     */
    presence: z.object({ terminalId: idSchema.nullable(), since: epochMs }).strict().nullable(),
  })
  .strict();
export type Person = z.infer<typeof personSchema>;

export const boardTerminalSchema = z
  .object({
    id: idSchema,
    name: text(200),
    /** Its departments within the viewer's scope. */
    departments: z.array(idSchema).max(200),
    active: z.boolean(),
    /** Connected to the server right now. */
    connected: z.boolean(),
    lastSeenAt: epochMs.nullable(),
    connectedAt: epochMs.nullable(),
    disconnectedAt: epochMs.nullable(),
    signedInUserId: idSchema.nullable(),
    signedInAt: epochMs.nullable(),
    appVersion: text(50).nullable(),
    clockOffsetMs: z.number().int().nullable(),
    /** Mutations waiting in its outbox, as it last reported (hello and heartbeats); null if it never did. */
    outbox: z.number().int().min(0).nullable(),
  })
  .strict();
export type BoardTerminal = z.infer<typeof boardTerminalSchema>;

export const boardExceptionSchema = z
  .object({
    id: z.number().int().positive(),
    kind: z.enum(EXCEPTION_KINDS),
    taskId: idSchema,
    departmentId: idSchema.nullable(),
    /** Who tried (a refused operation), rejected the task, or whose assignment expired. */
    userId: idSchema.nullable(),
    userName: text(200).nullable(),
    /** Who held the task when an operation was refused. */
    holderId: idSchema.nullable(),
    holderName: text(200).nullable(),
    terminalId: idSchema.nullable(),
    /** The refused operation (claim, start, …). */
    operation: text(32).nullable(),
    errorCode: text(64).nullable(),
    /** The operator's reason for rejecting the task. */
    reason: text(1000).nullable(),
    /** How long the operation waited in the terminal's outbox before the server saw it. */
    waitedMs: z.number().int().min(0).nullable(),
    createdAt: epochMs,
    acknowledgedAt: epochMs.nullable(),
    acknowledgedBy: idSchema.nullable(),
    /** How it was resolved: "acknowledged", or what happened to the task (e.g. "claimed", "assigned"). */
    resolution: text(200).nullable(),
  })
  .strict();
export type BoardException = z.infer<typeof boardExceptionSchema>;

export const notificationSchema = z
  .object({
    id: z.number().int().positive(),
    event: text(64),
    taskId: idSchema.nullable(),
    byUserId: idSchema.nullable(),
    createdAt: epochMs,
    readAt: epochMs.nullable(),
    /** Event facts: a rejection's reason, an offline terminal's id and queue, … */
    details: z.record(z.string(), z.unknown()),
  })
  .strict();
export type BoardNotification = z.infer<typeof notificationSchema>;

// ---------------------------------------------------------------------------------------------
// Page → server

export const supervisorHelloSchema = z
  .object({
    type: z.literal('hello'),
    protocol: z.literal(SUPERVISOR_PROTOCOL),
    protocolVersion: z.number().int().min(0).max(1_000_000),
    /** A session or API token; a browser page sends none and is authenticated by its session cookie. */
    token: z.string().min(1).max(512).optional(),
    /** The last cursor this page applied; null for a fresh view (a snapshot). */
    cursor: z.number().int().min(0).nullable(),
  })
  .strict();
export type SupervisorHello = z.infer<typeof supervisorHelloSchema>;

export const supervisorAckSchema = z.object({ type: z.literal('ack'), cursor: z.number().int().min(0) }).strict();
export const supervisorPingSchema = z.object({ type: z.literal('ping'), t: epochMs }).strict();

export const supervisorClientFrameSchema = z.discriminatedUnion('type', [supervisorHelloSchema, supervisorAckSchema, supervisorPingSchema]);
export type SupervisorClientFrame = z.infer<typeof supervisorClientFrameSchema>;

// ---------------------------------------------------------------------------------------------
// Server → page

export const supervisorWelcomeSchema = z
  .object({
    type: z.literal('welcome'),
    protocolVersion: z.number().int(),
    serverTime: epochMs,
    user: z.object({ id: idSchema, displayName: text(200), roles: z.array(z.enum(ROLES)) }).strict(),
    /** What this view covers: every department (admins) or these. */
    scope: z.object({ all: z.boolean(), departmentIds: z.array(idSchema) }).strict(),
    /** When the session ends (the connection closes then, 4401). */
    sessionExpiresAt: epochMs.nullable(),
    sync: z.enum(['snapshot', 'delta']),
  })
  .strict();
export type SupervisorWelcome = z.infer<typeof supervisorWelcomeSchema>;

export const supervisorChangesSchema = z
  .object({
    type: z.literal('changes'),
    mode: z.enum(['snapshot', 'delta']),
    /** First page of a snapshot: drop everything not in this snapshot once it completes. */
    reset: z.boolean(),
    /** The cursor to acknowledge and keep; null on snapshot pages before the last. */
    cursor: z.number().int().min(0).nullable(),
    more: z.boolean(),
    tasks: taskColumnsSchema,
    people: z.array(personSchema),
    terminals: z.array(boardTerminalSchema),
    exceptions: z.array(boardExceptionSchema),
    notifications: z.array(notificationSchema),
    departments: z.array(departmentSchema),
    config: siteConfigSchema.nullable(),
    supervision: supervisionSettingsSchema.nullable(),
    /** Entities that left the view (moved to a department outside it, or deleted). */
    removed: z
      .object({ tasks: z.array(idSchema), people: z.array(idSchema), terminals: z.array(idSchema) })
      .strict(),
  })
  .strict();
/** A change page as sent (tasks as a table). */
export type SupervisorChangesFrame = z.infer<typeof supervisorChangesSchema>;
/** A change page as the ends work with it (tasks as objects). */
export type SupervisorChanges = Omit<SupervisorChangesFrame, 'tasks'> & { tasks: BoardTask[] };

export function encodeChanges(page: SupervisorChanges): SupervisorChangesFrame {
  return { ...page, tasks: toTaskColumns(page.tasks) };
}

export function decodeChanges(frame: SupervisorChangesFrame): SupervisorChanges {
  return { ...frame, tasks: fromTaskColumns(frame.tasks) };
}

export const supervisorIncompatibleSchema = z
  .object({
    type: z.literal('incompatible'),
    reason: z.enum(['client_too_old', 'server_too_old']),
    minProtocolVersion: z.number().int(),
    maxProtocolVersion: z.number().int(),
    message: text(500),
  })
  .strict();

export const supervisorPongSchema = z.object({ type: z.literal('pong'), t: epochMs, serverTime: epochMs }).strict();
export const supervisorErrorSchema = z.object({ type: z.literal('error'), error: errorDataSchema, fatal: z.boolean() }).strict();

export const supervisorServerFrameSchema = z.discriminatedUnion('type', [
  supervisorWelcomeSchema,
  supervisorChangesSchema,
  supervisorIncompatibleSchema,
  supervisorPongSchema,
  supervisorErrorSchema,
]);
/** A server frame as sent. */
export type SupervisorServerFrame = z.infer<typeof supervisorServerFrameSchema>;
/** A server frame as the ends work with it (change pages decoded). */
export type SupervisorMessage = Exclude<SupervisorServerFrame, { type: 'changes' }> | SupervisorChanges;

/** An empty change page (the caught-up signal, or the frame the server fills). */
export function emptySupervisorChanges(mode: 'snapshot' | 'delta', cursor: number | null): SupervisorChanges {
  return {
    type: 'changes',
    mode,
    reset: false,
    cursor,
    more: false,
    tasks: [],
    people: [],
    terminals: [],
    exceptions: [],
    notifications: [],
    departments: [],
    config: null,
    supervision: null,
    removed: { tasks: [], people: [], terminals: [] },
  };
}
