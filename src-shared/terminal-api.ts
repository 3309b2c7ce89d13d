/**
 * The one typed API between the renderer and a terminal. The Electron preload implements it over
 * IPC; the browser-hosted terminal implements it over a local WebSocket; the renderer never knows
 * which it has. Inputs are validated with these schemas at every edge (IPC handlers, the local
 * bridge); errors cross as data (`ErrorData`) and become `DomainError`s again on the other side.
 */
import { z } from 'zod';
import type { SiteConfig } from './domain/config.js';
import type { ErrorData } from './domain/errors.js';
import type { Locale } from './domain/i18n.js';
import type { Role, Task } from './domain/types.js';
import { badgeSchema, pinSchema } from './domain/credentials.js';
import { MAX_REASON_LENGTH } from './domain/rules.js';
import { idSchema, type LastRejection, type TaskAssignmentInfo, type TerminalNotification } from './protocol/terminal.js';

export type ConnectionStatus = 'offline' | 'connecting' | 'syncing' | 'online';

export interface SyncStatus {
  status: ConnectionStatus;
  /** Mutations in the outbox waiting for the server's answer. */
  pending: number;
  /** When the terminal last heard from the server (terminal clock), or null if never. */
  lastSyncAt: number | null;
  /** Why the last connection attempt failed, if it did (e.g. "terminal token was replaced"). */
  lastError: string | null;
  /** Next reconnect attempt (terminal clock), while offline. */
  nextAttemptAt: number | null;
}

export interface SessionInfo {
  userId: string;
  displayName: string;
  roles: Role[];
  departmentIds: string[];
  signedInAt: number;
  /** KIO-1: a supervisor or admin without the operator role looks at the floor; they do not act. */
  lookOnly: boolean;
}

export interface TerminalIdentity {
  /** Null until the terminal is enrolled (first-run screen). */
  terminalId: string | null;
  name: string | null;
  serverUrl: string | null;
  departments: Array<{ id: string; name: string }>;
}

export interface TerminalSnapshot {
  identity: TerminalIdentity;
  sync: SyncStatus;
  session: SessionInfo | null;
  /** Unacknowledged conflict records of the signed-in operator. */
  openConflicts: number;
  config: SiteConfig | null;
  /** Seconds of inactivity before the session ends (the screen shows a countdown). */
  idleTimeoutSeconds: number;
  locale: Locale;
}

/** A task as the operator sees it: the cached state with any unconfirmed local change applied. */
export interface TaskView extends Task {
  /** A local change to this task is waiting for the server. */
  pending: boolean;
  /** The holder's assignment: claimed by them, or assigned by a supervisor and not yet accepted (ACC-1). */
  assignment: TaskAssignmentInfo | null;
  /** The last rejection, shown to whoever sees the task next (KIO-7). */
  lastRejection: LastRejection | null;
  /** Due before now (server time). */
  overdue: boolean;
}

/** LIST-2: what narrows the claimable list. */
export interface ClaimableFilters {
  /** Words found in the task id, work order number, step or work content. */
  search?: string;
  workOrder?: string;
  step?: string;
  /** Only tasks with a priority above normal. */
  highPriority?: boolean;
  overdue?: boolean;
}

export interface TaskPage {
  items: TaskView[];
  /** Tasks matching the filters. */
  total: number;
  offset: number;
  limit: number;
  /** Counts over the whole claimable list, for the filter buttons. */
  facets: { all: number; overdue: number; highPriority: number; steps: Array<{ step: string; count: number }> };
}

/** CAP-3: the operator's active tasks across every department, against their limit(s). */
export interface Workload {
  active: number;
  /** The limit for tasks of each of this terminal's departments the operator belongs to (CAP-1). */
  limits: Record<string, number>;
  /** The smallest of those: what the top bar shows. */
  limit: number;
}

export interface MyWork {
  /** The operator's tasks; for a look-only session, every held task of the terminal's departments. */
  tasks: TaskView[];
  /** Null for a look-only session. */
  workload: Workload | null;
}

/** KIO-3: what a scanned or typed code at the work screen turned out to be. */
export type ScanResult =
  | { kind: 'task'; task: TaskView; mine: boolean; claimable: boolean; reason: ErrorData | null }
  | { kind: 'workOrder'; workOrderNumber: string; claimable: number; tasks: number }
  /** Not a task code: a badge. `self`: the signed-in operator's own (scanning it again signs out). */
  | { kind: 'badge'; self: boolean }
  | { kind: 'unknown'; code: string };

/** NTF-1: a notification as the kiosk shows it. */
export interface NotificationView extends TerminalNotification {
  read: boolean;
}

/** A rejected offline action, kept until the operator has seen it (survives restarts). */
export interface ConflictView {
  id: number;
  mutationId: number;
  /** The operation that was refused: usually 'claim'. */
  operation: string;
  /** KIO-5: it had waited offline; otherwise the server refused it while the terminal was online. */
  offline: boolean;
  taskId: string;
  taskLabel: string;
  operatorId: string;
  error: ErrorData;
  /** Who holds the task now, when the refusal was a conflict. */
  currentOwner: { id: string; name: string } | null;
  createdAt: number;
}

export interface OperationAck {
  /** 'queued': applied locally and in the outbox; 'unchanged': nothing to do (already so). */
  result: 'queued' | 'unchanged';
  task: TaskView | null;
}

export type TerminalEvent =
  | { type: 'sync'; sync: SyncStatus }
  /**
   * Who is signed in now. `ended`: the session just ended because the server refused the sign-in
   * it began with (made offline from a directory that was out of date: the operator had been
   * deactivated or moved meanwhile), and why; the actions queued with it are refused too.
   */
  | { type: 'session'; session: SessionInfo | null; ended?: ErrorData }
  | { type: 'tasks' }
  | { type: 'conflict'; conflict: ConflictView }
  | { type: 'identity'; identity: TerminalIdentity }
  /** NTF-1: the signed-in operator's notifications changed; `fresh` are the ones that just arrived. */
  | { type: 'notifications'; fresh: NotificationView[] }
  /** The site configuration changed (reject reasons, task-code pattern, limits). */
  | { type: 'config'; config: SiteConfig };

export interface TerminalApi {
  getSnapshot(): Promise<TerminalSnapshot>;
  signIn(input: SignInInput): Promise<SessionInfo>;
  signOut(): Promise<void>;
  listClaimable(input: PageInput): Promise<TaskPage>;
  listMine(): Promise<MyWork>;
  /** KIO-3: a scanned or typed work-order or task code. */
  findByCode(input: { code: string }): Promise<ScanResult>;
  claim(input: TaskInput): Promise<OperationAck>;
  accept(input: TaskInput): Promise<OperationAck>;
  start(input: TaskInput): Promise<OperationAck>;
  complete(input: TaskInput): Promise<OperationAck>;
  release(input: TaskInput): Promise<OperationAck>;
  reject(input: RejectInput): Promise<OperationAck>;
  listConflicts(): Promise<ConflictView[]>;
  acknowledgeConflict(input: { id: number }): Promise<void>;
  listNotifications(): Promise<NotificationView[]>;
  /** NTF-2: mark these (or all, without ids) of the signed-in operator's notifications read. */
  markNotificationsRead(input: { ids?: number[] }): Promise<void>;
  /**
   * First-run enrollment: the server address and the terminal's id and token. Re-enrolling a
   * terminal its server has accepted also needs an administrator's credential or the maintenance
   * secret (SEC-30); without one it is refused with `permission_denied`.
   */
  enroll(input: EnrollInput): Promise<TerminalIdentity>;
  setLocale(input: { locale: Locale }): Promise<void>;
  /** Reset the idle timer (the operator touched the screen). */
  touch(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Input schemas, one per method: the single table both transports are built from.

export const signInInputSchema = z
  .object({
    badge: z.string().trim().min(1, 'scan or type a badge').pipe(badgeSchema),
    pin: pinSchema.optional(),
    method: z.enum(['badge', 'manual']).default('badge'),
  })
  .strict();
export type SignInInput = z.input<typeof signInInputSchema>;

/** Scanned or typed codes and search words: short, printable. */
const MAX_CODE_LENGTH = 100;

export const pageInputSchema = z
  .object({
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(500).default(50),
    search: z.string().trim().max(MAX_CODE_LENGTH).optional(),
    workOrder: z.string().trim().max(MAX_CODE_LENGTH).optional(),
    step: z.string().trim().max(64).optional(),
    highPriority: z.boolean().optional(),
    overdue: z.boolean().optional(),
  })
  .strict();
export type PageInput = z.input<typeof pageInputSchema>;

export const codeInputSchema = z.object({ code: z.string().trim().min(1, 'scan or type a code').max(MAX_CODE_LENGTH) }).strict();

export const readNotificationsInputSchema = z.object({ ids: z.array(z.number().int().positive()).max(1000).optional() }).strict();

export const taskInputSchema = z.object({ taskId: idSchema }).strict();
export type TaskInput = z.infer<typeof taskInputSchema>;

export const rejectInputSchema = z.object({ taskId: idSchema, reason: z.string().max(MAX_REASON_LENGTH * 2) }).strict();
export type RejectInput = z.infer<typeof rejectInputSchema>;

export const enrollInputSchema = z
  .object({
    serverUrl: z
      .string()
      .trim()
      .url('must be a URL like http://server:8080')
      .refine((u) => /^(https?|wss?):\/\//.test(u), 'must start with http://, https://, ws:// or wss://'),
    terminalId: idSchema,
    token: z.string().trim().min(10, 'is too short to be a terminal token').max(200),
    /**
     * SEC-30: re-enrolling a terminal its server has accepted needs one of these: an
     * administrator's user id and password, checked by the server the terminal is enrolled with,
     * or the terminal's maintenance secret (for when that server is gone). First enrollment needs
     * neither.
     */
    adminUserId: idSchema.optional(),
    adminPassword: z.string().min(1, 'must not be empty').max(200).optional(),
    maintenanceSecret: z.string().min(1, 'must not be empty').max(200).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.adminUserId === undefined) !== (v.adminPassword === undefined)) {
      const missing = v.adminUserId === undefined ? 'adminUserId' : 'adminPassword';
      ctx.addIssue({ code: 'custom', path: [missing], message: "goes with the other: an administrator's user id and password together" });
    }
    if (v.adminUserId !== undefined && v.maintenanceSecret !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['maintenanceSecret'], message: "give either an administrator's user id and password or the maintenance secret, not both" });
    }
  });
export type EnrollInput = z.infer<typeof enrollInputSchema>;
/** What a terminal is enrolled as: the enrollment without the credentials that authorised it. */
export type Enrollment = Pick<EnrollInput, 'serverUrl' | 'terminalId' | 'token'>;

const empty = z.object({}).strict().optional();

export const terminalApiInputs = {
  getSnapshot: empty,
  signIn: signInInputSchema,
  signOut: empty,
  listClaimable: pageInputSchema,
  listMine: empty,
  findByCode: codeInputSchema,
  claim: taskInputSchema,
  accept: taskInputSchema,
  start: taskInputSchema,
  complete: taskInputSchema,
  release: taskInputSchema,
  reject: rejectInputSchema,
  listConflicts: empty,
  acknowledgeConflict: z.object({ id: z.number().int().positive() }).strict(),
  listNotifications: empty,
  markNotificationsRead: readNotificationsInputSchema,
  enroll: enrollInputSchema,
  setLocale: z.object({ locale: z.enum(['en', 'zh']) }).strict(),
  touch: empty,
} satisfies { [K in keyof TerminalApi]: z.ZodType };

export type TerminalMethod = keyof TerminalApi;
export const TERMINAL_METHODS = Object.keys(terminalApiInputs) as TerminalMethod[];

/** What crosses a transport for one call. */
export type CallResult<T = unknown> = { ok: true; value: T } | { ok: false; error: ErrorData };

/** The local bridge's frames (browser-hosted terminal). */
export const bridgeRequestSchema = z
  .object({ id: z.number().int().positive(), method: z.enum(TERMINAL_METHODS as [TerminalMethod, ...TerminalMethod[]]), input: z.unknown() })
  .strict();
export type BridgeRequest = z.infer<typeof bridgeRequestSchema>;
export type BridgeFrame = ({ kind: 'result'; id: number } & CallResult) | { kind: 'event'; event: TerminalEvent };
