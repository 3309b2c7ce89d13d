/**
 * The sync protocol between a terminal and the server: only types and schemas.
 * One version integer, messages tagged by `type` and split by direction, explicit
 * incompatibility reasons. Both ends validate every frame they receive with these schemas.
 * docs/PROTOCOL.md describes the conversation.
 *
 * Version 2 adds what a terminal reports about itself: the depth of its outbox, in the hello and
 * in every heartbeat ping, so supervisors see a kiosk that has work queued.
 *
 * Version 3 carries what a kiosk needs through a whole shift: each task's active assignment (who
 * assigned it, accepted or not) and last rejection, each directory user's active tasks per
 * department (so a terminal counts tasks held elsewhere, CAP-3), the operators' notifications, the
 * `accept` and `readNotifications` mutations, a mutation's `offline` mark, and two site settings
 * (reject reasons, the task-code pattern). The server still speaks versions 1 and 2: it reads a
 * hello by its version and sends such a terminal its frames without what v3 added
 * (`frameForVersion`).
 */
import { z } from 'zod';
import { siteConfigSchema, type SiteConfig } from '../domain/config.js';
import { ERROR_CODES, type ErrorCode } from '../domain/errors.js';
import { MAX_REASON_LENGTH } from '../domain/rules.js';
import { ROLES, TASK_STATUSES } from '../domain/types.js';

export const PROTOCOL_VERSION = 3;
/** The oldest terminal protocol this server still speaks. */
export const MIN_PROTOCOL_VERSION = 1;

/** Frames larger than this are refused with an error frame (the connection stays up). */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Frames larger than this close the connection (WebSocket close 1009). */
export const HARD_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** A frame before the hello larger than this closes the connection (4400): a hello is under 1 KB. */
export const MAX_HELLO_BYTES = 16 * 1024;
export const MAX_MUTATIONS_PER_PUSH = 500;
/** How many notifications one readNotifications mutation may mark. */
export const MAX_NOTIFICATION_IDS = 200;
/** Change pages carry at most this many entities. */
export const CHANGE_PAGE_SIZE = 1000;

export const CLOSE_CODES = {
  /** Bad, unknown or revoked terminal token, or the terminal was disabled. */
  unauthorized: 4401,
  /** An administrator changed the terminal's departments: reconnect now for the new view. */
  reconfigured: 4205,
  /** Protocol version mismatch; see the `incompatible` frame sent before closing. */
  incompatible: 4426,
  /** The first frame was not a valid hello. */
  badHandshake: 4400,
  /** Another connection for the same terminal took over. */
  replaced: 4409,
  /** The terminal did not read fast enough. */
  slowConsumer: 4408,
  /** The connection kept sending frames the server had to refuse (SEC-5); fix the sender, then reconnect. */
  tooManyErrors: 4429,
  /** The server is shutting down. */
  shuttingDown: 1001,
} as const;

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Ids from us or from an ERP: letters, digits and . _ : - ; at most 64 characters. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
export const ID_MAX = 64;

export const idSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(ID_MAX, `must be at most ${ID_MAX} characters`)
  .regex(ID_PATTERN, 'may only hold letters, digits and . _ : -');

export const EPOCH_MS_MAX = 8.64e15;
const epochMs = z.number().int().min(0).max(EPOCH_MS_MAX);
const text = (max: number) => z.string().max(max);

export const departmentSchema = z
  .object({ id: idSchema, name: text(200), taskLimit: z.number().int().min(0).max(1000).nullable() })
  .strict();

export const taskAssignmentSchema = z
  .object({
    status: z.enum(['assigned', 'accepted', 'in_progress']),
    /** Who made it: the holder themself (a claim) or a supervisor (an assignment). */
    assignedBy: idSchema,
    assignedByName: text(200).nullable(),
    at: epochMs,
  })
  .strict();

export const lastRejectionSchema = z
  .object({ userId: idSchema, userName: text(200), reason: text(MAX_REASON_LENGTH * 2), at: epochMs })
  .strict();

export const syncTaskSchema = z
  .object({
    id: idSchema,
    workOrderId: idSchema,
    workOrderNumber: text(100),
    step: text(64),
    workContent: text(2000),
    departmentId: idSchema.nullable(),
    status: z.enum(TASK_STATUSES),
    operatorId: idSchema.nullable(),
    operatorName: text(200).nullable(),
    priority: z.number().int().min(-1_000_000).max(1_000_000),
    dueAt: epochMs.nullable(),
    requiredSkills: z.array(text(64)).max(50),
    version: z.number().int().min(0),
    createdAt: epochMs,
    updatedAt: epochMs,
    /** Running cooldowns on this task (COOL-1). */
    cooldowns: z.array(z.object({ userId: idSchema, until: epochMs }).strict()).max(1000),
    /** Users who hold or worked on this task (XSTEP-1 on the terminal). */
    workedBy: z.array(idSchema).max(1000),
    /** v3: the holder's active assignment: claimed by them, or assigned by a supervisor (ACC-1). */
    assignment: taskAssignmentSchema.nullable(),
    /** v3: the last time an operator rejected this task, shown to the next one who sees it (KIO-7). */
    lastRejection: lastRejectionSchema.nullable(),
  })
  .strict();
export type SyncTask = z.infer<typeof syncTaskSchema>;

/**
 * Issue 12: the rule of syncTaskSchema as plain checks, for the thousands of tasks of a snapshot
 * (a kiosk joining a department of 50,000 spent 0.6 s in zod on them, 13 µs a task). A property
 * test holds `syncTasksProblem` to zod's answers, valid or broken (protocol/terminal.test.ts).
 */
export type ValueCheck = (v: unknown) => boolean;
const isId: ValueCheck = (v) => typeof v === 'string' && v.length >= 1 && v.length <= ID_MAX && ID_PATTERN.test(v);
/**
 * Code points in `s`, as zod measures a string's length (a surrogate pair counts once, a lone
 * surrogate as itself): only needed when the UTF-16 length is over a limit.
 */
function codePointLength(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}
const isText = (max: number): ValueCheck => (v) => typeof v === 'string' && (v.length <= max || codePointLength(v) <= max);
const isInt = (min: number, max: number): ValueCheck => (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const orNull = (c: ValueCheck): ValueCheck => (v) => v === null || c(v);
const isEpoch = isInt(0, EPOCH_MS_MAX);
/** One of the values of a zod enum (the same list the schema states). */
const oneOf = (values: readonly string[]): ValueCheck => (v) => typeof v === 'string' && values.includes(v);
const arrayOf = (c: ValueCheck, max: number): ValueCheck => (v) => Array.isArray(v) && v.length <= max && v.every(c);
/** A plain object with exactly these keys (zod's strict object), each passing its check. */
const record = (checks: Record<string, ValueCheck>): ValueCheck => {
  const keys = Object.keys(checks);
  return (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    let n = 0;
    for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) n++;
    return n === keys.length && keys.every((k) => checks[k]!(o[k]));
  };
};

/** Each field of a task's row, as syncTaskSchema states it (the supervisors' task table checks the same). */
export const TASK_FIELD_CHECKS = {
  id: isId,
  workOrderId: isId,
  workOrderNumber: isText(100),
  step: isText(64),
  workContent: isText(2000),
  departmentId: orNull(isId),
  status: oneOf(TASK_STATUSES),
  operatorId: orNull(isId),
  operatorName: orNull(isText(200)),
  priority: isInt(-1_000_000, 1_000_000),
  dueAt: orNull(isEpoch),
  requiredSkills: arrayOf(isText(64), 50),
  version: isInt(0, Number.MAX_SAFE_INTEGER),
  createdAt: isEpoch,
  updatedAt: isEpoch,
} satisfies Record<string, ValueCheck>;

const SYNC_TASK_CHECKS: Record<keyof SyncTask, ValueCheck> = {
  ...TASK_FIELD_CHECKS,
  cooldowns: arrayOf(record({ userId: isId, until: isEpoch }), 1000),
  workedBy: arrayOf(isId, 1000),
  assignment: orNull(record({ status: oneOf(taskAssignmentSchema.shape.status.options), assignedBy: isId, assignedByName: orNull(isText(200)), at: isEpoch })),
  lastRejection: orNull(record({ userId: isId, userName: isText(200), reason: isText(MAX_REASON_LENGTH * 2), at: isEpoch })),
};
const SYNC_TASK_KEYS = Object.keys(SYNC_TASK_CHECKS) as Array<keyof SyncTask>;
const isSyncTask = record(SYNC_TASK_CHECKS);

/** What is wrong with a list of tasks (the first problem, with its path), or null when every task is valid. */
export function syncTasksProblem(v: unknown): { path: Array<string | number>; message: string } | null {
  if (!Array.isArray(v)) return { path: [], message: 'must be a list of tasks' };
  for (let i = 0; i < v.length; i++) {
    const t = v[i] as unknown;
    if (isSyncTask(t)) continue;
    if (t === null || typeof t !== 'object' || Array.isArray(t)) return { path: [i], message: 'must be a task object' };
    const o = t as Record<string, unknown>;
    const unknownKey = Object.keys(o).find((k) => !Object.prototype.hasOwnProperty.call(SYNC_TASK_CHECKS, k));
    if (unknownKey !== undefined) return { path: [i, unknownKey], message: 'is not a task field' };
    const bad = SYNC_TASK_KEYS.find((k) => !SYNC_TASK_CHECKS[k](o[k]))!;
    return { path: [i, bad], message: `is not a valid ${bad}` };
  }
  return null;
}

/** A list of tasks, checked by `syncTasksProblem` (the same answers as z.array(syncTaskSchema), faster). */
export const syncTasksSchema = z.custom<SyncTask[]>().superRefine((v, ctx) => {
  const problem = syncTasksProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
});
export type TaskAssignmentInfo = z.infer<typeof taskAssignmentSchema>;
export type LastRejection = z.infer<typeof lastRejectionSchema>;

export const directoryUserSchema = z
  .object({
    id: idSchema,
    displayName: text(200),
    badgeHash: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
    pinHash: text(300).nullable(),
    roles: z.array(z.enum(ROLES)).max(3),
    departmentIds: z.array(idSchema).max(200),
    active: z.boolean(),
    taskLimit: z.number().int().min(0).max(1000).nullable(),
    skills: z.array(text(64)).max(50),
    /**
     * v3 (CAP-3): the user's active tasks per task department ('' for none), across the whole
     * plant: a terminal counts those of departments it does not serve from here.
     */
    activeTasks: z
      .record(z.string().max(ID_MAX), z.number().int().min(0).max(1_000_000))
      .refine((r) => Object.keys(r).length <= 200, 'at most 200 departments'),
  })
  .strict();
export type DirectoryUser = z.infer<typeof directoryUserSchema>;

/** Notification events an operator sees at a kiosk (NTF-1). */
export const OPERATOR_NOTIFICATION_EVENTS = [
  'task_claimed',
  'task_assigned',
  'task_reassigned_away',
  'task_expired',
  'task_released_by_supervisor',
  'task_cancelled',
  'rejected_task_claimed',
  'rejected_task_assigned',
  'rejected_task_cancelled',
] as const;
export type OperatorNotificationEvent = (typeof OPERATOR_NOTIFICATION_EVENTS)[number];

/** v3 (NTF-1): something that happened to an operator, delivered to the kiosks of their departments. */
export const terminalNotificationSchema = z
  .object({
    id: z.number().int().positive(),
    userId: idSchema,
    event: z.enum(OPERATOR_NOTIFICATION_EVENTS),
    taskId: idSchema.nullable(),
    /** "WO-2026-0042 · cut · Cut brackets", when the task is known. */
    taskLabel: text(400).nullable(),
    byUserId: idSchema.nullable(),
    byName: text(200).nullable(),
    /** Event specifics: the new holder's name, a cancel reason, an offline claim's wait. */
    details: z.record(z.string().max(40), z.union([z.string().max(MAX_REASON_LENGTH * 2), z.number(), z.boolean(), z.null()])),
    createdAt: epochMs,
    readAt: epochMs.nullable(),
  })
  .strict();
export type TerminalNotification = z.infer<typeof terminalNotificationSchema>;

const errorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const errorDataSchema = z
  .object({
    code: errorCodeSchema,
    message: text(2000),
    details: z.record(z.string(), z.unknown()),
    retry: z.object({ canRetry: z.boolean(), suggestion: text(1000), actionText: text(200) }).strict(),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Mutations: terminal → server, through the outbox

const taskArgs = z.object({ taskId: idSchema }).strict();

/** Arguments per mutation name. A mutation whose arguments change shape gets a new name. */
export const mutationArgsSchemas = {
  signIn: z.object({ method: z.enum(['badge', 'badge_pin', 'manual']) }).strict(),
  signOut: z.object({}).strict(),
  claim: taskArgs,
  start: taskArgs,
  complete: taskArgs,
  release: taskArgs,
  reject: z.object({ taskId: idSchema, reason: z.string().max(MAX_REASON_LENGTH * 2) }).strict(),
  /** v3 (ACC-1): the holder accepts a task a supervisor assigned to them. */
  accept: taskArgs,
  /** v3 (NTF-2): the operator has seen these notifications of theirs. */
  readNotifications: z.object({ ids: z.array(z.number().int().positive()).min(1).max(MAX_NOTIFICATION_IDS) }).strict(),
} as const;

export type MutationName = keyof typeof mutationArgsSchemas;
export type MutationArgs<N extends MutationName> = z.infer<(typeof mutationArgsSchemas)[N]>;

export function isMutationName(name: unknown): name is MutationName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(mutationArgsSchemas, name);
}

/** The envelope every mutation shares; `name` and `args` are checked per mutation. */
export const mutationEnvelopeSchema = z
  .object({
    /** Per-terminal, increasing; never reused. */
    id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    name: z.string().max(32),
    args: z.unknown(),
    /** The operator on whose behalf the terminal acts. */
    operatorId: idSchema,
    /** The terminal's clock when the operator acted: informative only (the server orders). */
    clientTime: epochMs,
    /**
     * v3: the mutation waited offline (made while the terminal was not connected, or its connection
     * ended before the answer came). A claim confirmed after such a wait is notified (NTF-1).
     */
    offline: z.boolean().optional(),
  })
  .strict();
export type MutationEnvelope = z.infer<typeof mutationEnvelopeSchema>;

export type Mutation = { [N in MutationName]: Omit<MutationEnvelope, 'name' | 'args'> & { name: N; args: MutationArgs<N> } }[MutationName];

// ---------------------------------------------------------------------------------------------
// Terminal → server frames

/** Version 1's hello. */
export const helloV1Schema = z
  .object({
    type: z.literal('hello'),
    protocolVersion: z.literal(1),
    terminalId: idSchema,
    token: z.string().min(1).max(200),
    /** The last change cursor this terminal applied; null if it never synced. */
    cursor: z.number().int().min(0).nullable(),
    /** The last mutation id whose outcome the terminal has stored. */
    lastAckedMutationId: z.number().int().min(0),
    clientTime: epochMs,
    appVersion: text(50),
  })
  .strict();

/** Version 2's hello: version 1's, plus the terminal's outbox depth. */
export const helloV2Schema = helloV1Schema
  .extend({
    protocolVersion: z.literal(2),
    /** Mutations in the terminal's outbox waiting for the server's answer. */
    outbox: z.number().int().min(0).max(1_000_000_000),
  })
  .strict();

/** The current hello (version 3): the same fields as version 2's. */
export const helloSchema = helloV2Schema.extend({ protocolVersion: z.literal(3) }).strict();

/** The hello of each version this server speaks, by version (PROTO-1: read the version first). */
export const HELLO_SCHEMAS: Record<number, typeof helloV1Schema | typeof helloV2Schema | typeof helloSchema> = {
  1: helloV1Schema,
  2: helloV2Schema,
  3: helloSchema,
};

export const pushSchema = z
  .object({ type: z.literal('push'), mutations: z.array(z.unknown()).min(1).max(MAX_MUTATIONS_PER_PUSH) })
  .strict();

/** The terminal applied change pages up to `cursor`: the server may send the next one. */
export const ackSchema = z.object({ type: z.literal('ack'), cursor: z.number().int().min(0) }).strict();

/** A heartbeat; from version 2 it carries the outbox depth. */
export const pingSchema = z.object({ type: z.literal('ping'), t: epochMs, outbox: z.number().int().min(0).max(1_000_000_000).optional() }).strict();

export const terminalFrameSchema = z.discriminatedUnion('type', [helloSchema, pushSchema, ackSchema, pingSchema]);
/** Frames after the handshake (a hello is read by its version first). */
export const sessionFrameSchema = z.discriminatedUnion('type', [pushSchema, ackSchema, pingSchema]);
/** A hello of any version this server speaks. */
export type Hello = z.infer<typeof helloV1Schema> | z.infer<typeof helloV2Schema> | z.infer<typeof helloSchema>;
export type TerminalFrame = z.infer<typeof terminalFrameSchema>;

// ---------------------------------------------------------------------------------------------
// Server → terminal frames

export const welcomeSchema = z
  .object({
    type: z.literal('welcome'),
    protocolVersion: z.number().int(),
    serverTime: epochMs,
    terminal: z.object({ id: idSchema, name: text(200), departments: z.array(idSchema) }).strict(),
    /** The highest mutation id the server has processed for this terminal. */
    lastMutationId: z.number().int().min(0),
    /** Salt for badge hashes, so the terminal can check badges offline. */
    siteSalt: z.string().min(1).max(200),
    config: siteConfigSchema,
    /** 'snapshot' when the terminal's cursor is unknown or too old for the change log. */
    sync: z.enum(['snapshot', 'delta']),
  })
  .strict();

export const incompatibleSchema = z
  .object({
    type: z.literal('incompatible'),
    reason: z.enum(['terminal_too_old', 'server_too_old']),
    minProtocolVersion: z.number().int(),
    maxProtocolVersion: z.number().int(),
    message: text(500),
  })
  .strict();

export const outcomeSchema = z.discriminatedUnion('status', [
  z
    .object({
      id: z.number().int().positive(),
      status: z.literal('applied'),
      value: z.record(z.string(), z.unknown()),
      task: syncTaskSchema.nullable(),
    })
    .strict(),
  z.object({ id: z.number().int().positive(), status: z.literal('rejected'), error: errorDataSchema, task: syncTaskSchema.nullable() }).strict(),
  /** Not processed (a fault on the server): send it again later; its id is not consumed. */
  z
    .object({ id: z.number().int().positive(), status: z.literal('retry'), error: errorDataSchema, retryAfterMs: z.number().int().min(0) })
    .strict(),
]);
export type MutationOutcome = z.infer<typeof outcomeSchema>;

export const resultsSchema = z.object({ type: z.literal('results'), outcomes: z.array(outcomeSchema) }).strict();

export const changesSchema = z
  .object({
    type: z.literal('changes'),
    mode: z.enum(['snapshot', 'delta']),
    /** First page of a snapshot: everything not in this snapshot is to be dropped when it ends. */
    reset: z.boolean(),
    /** The cursor to store once this page is applied; null on snapshot pages before the last. */
    cursor: z.number().int().min(0).nullable(),
    /** More pages follow right after this one is acknowledged. */
    more: z.boolean(),
    tasks: syncTasksSchema,
    users: z.array(directoryUserSchema),
    departments: z.array(departmentSchema),
    config: siteConfigSchema.nullable(),
    /** v3 (NTF-1): new or changed notifications of the users in `users`' departments. */
    notifications: z.array(terminalNotificationSchema),
  })
  .strict();
export type ChangesFrame = z.infer<typeof changesSchema>;

export const pongSchema = z.object({ type: z.literal('pong'), t: epochMs, serverTime: epochMs }).strict();

export const errorFrameSchema = z
  .object({
    type: z.literal('error'),
    error: errorDataSchema,
    /** The connection closes after a fatal error. */
    fatal: z.boolean(),
  })
  .strict();

export const serverFrameSchema = z.discriminatedUnion('type', [
  welcomeSchema,
  incompatibleSchema,
  resultsSchema,
  changesSchema,
  pongSchema,
  errorFrameSchema,
]);
export type Welcome = z.infer<typeof welcomeSchema>;
export type ServerFrame = z.infer<typeof serverFrameSchema>;

// ---------------------------------------------------------------------------------------------
// Older terminals (PROTO-1)

/** What version 3 added to a task, a directory user and the site config: not sent to older terminals. */
function olderTask(t: SyncTask): Record<string, unknown> {
  const { assignment: _a, lastRejection: _r, ...rest } = t;
  return rest;
}

function olderUser(u: DirectoryUser): Record<string, unknown> {
  const { activeTasks: _a, ...rest } = u;
  return rest;
}

function olderConfig(c: SiteConfig): Record<string, unknown> {
  const { rejectReasons: _r, taskCodePattern: _p, ...rest } = terminalConfig(c);
  return rest;
}

/**
 * The site config as terminals receive it: without the server-side policy they have no use for
 * (SEC-32 `pinMinLength`: PINs are set on the server), so terminals built before it was added,
 * whose config schema is strict, still accept the frame.
 */
function terminalConfig(c: SiteConfig): Record<string, unknown> {
  const { pinMinLength: _m, ...rest } = c;
  return rest;
}

/**
 * A server frame as a terminal of `version` expects it: version 3's frames unchanged but for the
 * config's server-side policy (`terminalConfig`); for versions 1 and 2 without the fields and
 * entities version 3 added (their schemas are strict and would refuse them).
 */
export function frameForVersion(frame: ServerFrame, version: number): unknown {
  if (version >= 3) {
    if (frame.type === 'welcome') return { ...frame, config: terminalConfig(frame.config) };
    if (frame.type === 'changes' && frame.config) return { ...frame, config: terminalConfig(frame.config) };
    return frame;
  }
  switch (frame.type) {
    case 'welcome':
      return { ...frame, config: olderConfig(frame.config) };
    case 'changes': {
      const { notifications: _n, ...rest } = frame;
      return {
        ...rest,
        tasks: frame.tasks.map(olderTask),
        users: frame.users.map(olderUser),
        config: frame.config ? olderConfig(frame.config) : null,
      };
    }
    case 'results':
      return {
        ...frame,
        outcomes: frame.outcomes.map((o) => (o.status === 'retry' ? o : { ...o, task: o.task ? olderTask(o.task) : null })),
      };
    default:
      return frame;
  }
}

/** Turn a zod failure into the `field` / `problem` details of an `invalid_input` error. */
export function describeIssue(error: z.ZodError): { field: string; problem: string } {
  const issue = error.issues[0];
  if (!issue) return { field: 'body', problem: 'is invalid' };
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  return { field, problem: issue.message };
}
