/**
 * The server store: everything the authority persists, behind one interface so a second backend
 * (PostgreSQL) can follow. Every backend must pass test/store-contract.ts. Public methods are
 * asynchronous; engine work runs through `runGroup` (see engine/ports.ts).
 */
import type { SiteConfig } from '../../src-shared/domain/config.js';
import type { SupervisionSettings } from '../../src-shared/domain/supervision.js';
import type { BoardException, BoardNotification, SupervisorChangesFrame } from '../../src-shared/protocol/supervisor.js';
import type { Department, Role, Task, TaskStatus, User, Assignment } from '../../src-shared/domain/types.js';
import type { DirectoryUser, MutationOutcome, SyncTask, TerminalNotification } from '../../src-shared/protocol/terminal.js';
import type { AuditEntry, Eng, GroupResult, UnitHint } from '../engine/ports.js';
import type { ImportRowError } from '../../src-shared/domain/import-problems.js';

export interface UserRecord extends User {
  badgeHash: string | null;
  pinHash: string | null;
  passwordHash: string | null;
  qualityScore: number;
}

export interface NewUser {
  id: string;
  displayName: string;
  roles: Role[];
  departmentIds: string[];
  badgeHash: string | null;
  pinHash: string | null;
  passwordHash: string | null;
  active: boolean;
  taskLimit: number | null;
  skills: string[];
  qualityScore: number;
}

export type UserPatch = Partial<Omit<NewUser, 'id'>>;

export interface TerminalRecord {
  id: string;
  name: string;
  tokenHash: string;
  departments: string[];
  active: boolean;
  lastMutationId: number;
  clockOffsetMs: number | null;
  lastSeenAt: number | null;
  createdAt: number;
  signedInUserId: string | null;
  signedInAt: number | null;
  /** Reported at the handshake. */
  appVersion: string | null;
  protocolVersion: number | null;
  /** Mutations waiting in its outbox, as last reported (hello and heartbeats). */
  outbox: number | null;
  /** Connected to this server now (kept in the store, so every reader agrees). */
  connected: boolean;
  connectedAt: number | null;
  disconnectedAt: number | null;
}

/** What a terminal says about itself at the handshake. */
export interface HandshakeRecord {
  now: number;
  clockOffsetMs: number;
  /** It holds the outcomes up to here: the server may drop those. */
  ackedMutationId: number;
  appVersion: string;
  protocolVersion: number;
  /** Null for protocol v1 terminals, which do not report it. */
  outbox: number | null;
}

/** How the committer paces groups that hold the event loop (runGroup). */
export interface GroupPace {
  /**
   * Called once the group's work is done and committed, before it is durable (the next group
   * runs meanwhile), with how many of its units ran: the first `ran` units, in order.
   */
  ran(ran: number): void;
  /**
   * Once the group has held the loop this long, its remaining units are not run: each is
   * answered with NotRun (engine/units.ts) and goes back to the front of the queue. Their cost
   * was estimated, and estimates fall short right after an import or on a cold cache (a group of
   * 40 claims held the loop for 100 ms).
   */
  budgetMs: number;
}

/** Whose view of the floor a supervisor page shows: every department (admins) or these (SUP-1). */
export interface SupervisorScope {
  userId: string;
  all: boolean;
  departmentIds: readonly string[];
}

export type SupervisorSnapshotPhase = 'meta' | 'people' | 'terminals' | 'exceptions' | 'notifications' | 'tasks';
export interface SupervisorSnapshotPosition {
  phase: SupervisorSnapshotPhase;
  afterId: string;
}

/** The entities of one supervisor change page, as sent (tasks as a table; the frame without its envelope). */
export type SupervisorPageData = Omit<SupervisorChangesFrame, 'type' | 'mode' | 'reset' | 'cursor' | 'more'>;

export interface SupervisorChangesPage extends SupervisorPageData {
  lastSeq: number;
  more: boolean;
}

export interface SupervisorSnapshotPage extends SupervisorPageData {
  next: SupervisorSnapshotPosition | null;
}

export interface ExceptionFilter {
  /** null: every department (admins). */
  departmentIds: readonly string[] | null;
  open?: boolean;
  kind?: BoardException['kind'];
  taskId?: string;
}

export interface AuditFilter {
  /** null: every department (admins); otherwise events of tasks of these departments. */
  departmentIds: readonly string[] | null;
  taskId?: string;
  workOrderNumber?: string;
  /** The actor, or the operator an action was about (details.userId). */
  userId?: string;
  action?: string;
  outcome?: string;
  from?: number;
  to?: number;
  terminalId?: string;
  /** Only events older than this id (an export reads page after page, newest first). */
  beforeId?: number;
}

/** An offline terminal with work queued whose supervisors were just told (SUP-5). */
export interface OfflineAlert {
  terminalId: string;
  outbox: number;
  offlineSince: number;
  notified: string[];
}

export interface ApiTokenRecord {
  id: string;
  userId: string;
  name: string;
  kind: 'api' | 'session';
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface SignInFailureState {
  failures: number;
  firstFailedAt: number;
  lockedUntil: number | null;
}

export interface ImportTaskRow {
  taskId: string;
  workOrderNumber: string;
  workOrderTitle: string;
  step: string;
  workContent: string;
  departmentId: string | null;
  status: Extract<TaskStatus, 'draft' | 'pending' | 'cancelled'>;
  priority: number;
  dueAt: number | null;
  requiredSkills: string[];
}

export type { ImportRowError };

export type ImportResult =
  | { ok: true; created: number; updated: number; workOrders: number }
  | { ok: false; errors: ImportRowError[]; /** All errors, and the rows they are on, when `errors` lists only the first of them (IMP-2). */ errorCount?: number; badRows?: number };

export interface TaskFilter {
  departmentId?: string;
  /** SEC-10: only tasks of these departments (the caller's, unless an admin). */
  departmentIds?: readonly string[];
  status?: TaskStatus;
  operatorId?: string;
  workOrderNumber?: string;
  /** Free text in work content, work order number or task id. */
  q?: string;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface ChangeData {
  tasks: SyncTask[];
  users: DirectoryUser[];
  departments: Department[];
  config: SiteConfig | null;
  /** NTF-1: operators' notifications for the kiosks of their departments. */
  notifications: TerminalNotification[];
}

export interface ChangesPage extends ChangeData {
  /** The highest change sequence included; equals `afterSeq` when nothing was found. */
  lastSeq: number;
  more: boolean;
}

export type SnapshotPhase = 'departments' | 'users' | 'notifications' | 'tasks';
export interface SnapshotPosition {
  phase: SnapshotPhase;
  afterId: string;
}

export interface SnapshotPage extends ChangeData {
  next: SnapshotPosition | null;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: number;
  /** The task's department when it happened. */
  departmentId: string | null;
}

export interface StoreStats {
  tasksByStatus: Record<string, number>;
  heldTasks: number;
  users: number;
  terminals: number;
  headSeq: number;
}

export interface ServerStore {
  readonly backend: string;
  close(): Promise<void>;

  /**
   * Run units of engine work in one durable transaction, each in its own savepoint: a unit that
   * throws is rolled back alone and reported as `{ ok: false }`. Resolves after the commit is
   * durable; rejects (and nothing is kept) if the commit itself fails. `hints` (one per unit, in
   * order) say what each unit is likely to ask about; a store may read it ahead for the group.
   * `pace` (a store whose groups hold the event loop: SQLite) is how the committer paces them.
   */
  runGroup<T>(units: ReadonlyArray<() => Eng<T>>, hints?: readonly UnitHint[], pace?: GroupPace): Promise<GroupResult<T>>;

  getConfig(): Promise<SiteConfig>;
  setConfig(config: SiteConfig, now: number): Promise<void>;
  siteSalt(): Promise<string>;

  upsertDepartment(department: Department, now: number): Promise<void>;
  listDepartments(): Promise<Department[]>;

  createUser(user: NewUser, now: number): Promise<void>;
  updateUser(id: string, patch: UserPatch, now: number): Promise<void>;
  getUser(id: string): Promise<UserRecord | null>;
  findUserByBadgeHash(badgeHash: string): Promise<UserRecord | null>;
  listUsers(filter: { departmentId?: string; role?: Role; active?: boolean }): Promise<UserRecord[]>;

  createTerminal(input: { id: string; name: string; departments: string[]; tokenHash: string }, now: number): Promise<void>;
  updateTerminal(id: string, patch: { name?: string; departments?: string[]; active?: boolean; tokenHash?: string }, now: number): Promise<void>;
  getTerminal(id: string): Promise<TerminalRecord | null>;
  listTerminals(): Promise<TerminalRecord[]>;
  /**
   * At a handshake, in one write: the terminal is connected and was seen, its clock runs
   * `clockOffsetMs` behind the server's, what it runs and has queued, and it holds the outcomes up
   * to `ackedMutationId` (the server may drop those).
   */
  recordHandshake(id: string, h: HandshakeRecord): Promise<void>;
  /**
   * Heartbeats, in one write: these terminals were seen; `outboxes` holds the outbox depths that
   * changed since the last write (supervisors see them).
   */
  touchTerminals(ids: readonly string[], now: number, outboxes?: ReadonlyMap<string, number>): Promise<void>;
  /**
   * The terminal's connection ended. With `connectedAt` (the `now` of that connection's handshake),
   * only if no later handshake replaced it: a terminal whose link moved to another instance stays
   * connected there when the old instance notices its socket closed.
   */
  recordDisconnect(id: string, now: number, connectedAt?: number): Promise<void>;
  /**
   * At start, when this server is the store's only one (`sharedByInstances` false): no terminal is
   * connected to a server that just started (a crash left some marked).
   */
  resetConnections(now: number): Promise<void>;
  /**
   * Terminals marked connected but not seen since `seenBefore` (their instance died without
   * recording the disconnect; live ones are touched every heartbeat) are marked disconnected, as of
   * when they were last seen. Returns their ids. Runs under the timer lease.
   */
  disconnectStale(seenBefore: number, now: number): Promise<string[]>;
  /**
   * Whether several server instances may share this store (PostgreSQL). Then no instance resets
   * presence at its start (the others' terminals are connected), and timers that must run once run
   * under the lease.
   */
  readonly sharedByInstances: boolean;
  /**
   * How many groups the committer may have committing at once: SQLite has one writer; PostgreSQL
   * runs each group in its own transaction on its own connection, and row locks order what two
   * groups do to one task or terminal (as they do across instances).
   */
  readonly groupLanes: number;
  /**
   * A group's units run synchronously on the event loop (SQLite), so the committer cuts groups to
   * about GROUP_BUDGET_MS of work; a store that awaits its database between statements does not
   * hold the loop, and takes all that is queued (up to the group maximum) so commits stay few.
   */
  readonly groupsHoldTheLoop: boolean;
  /**
   * A page read (changesPage, snapshotPage and the supervisor's) runs on the event loop (SQLite
   * before its read thread starts), so the hubs size pages to about SLICE_MS of reading; else
   * pages stay at their maximum.
   */
  readonly pagesHoldTheLoop: boolean;
  /**
   * The timer lease: true while this instance is the one that runs the deployment-wide timers
   * (assignment expiry, change-log and session pruning, offline alerts, stale presence). Called
   * every few seconds; takes the lease when nobody holds it, keeps it while held. An instance that
   * dies loses it (PostgreSQL: a session advisory lock, released with the session), and the next
   * caller takes it. A store only one server uses always holds it.
   */
  holdTimerLease(): Promise<boolean>;
  /**
   * A store other writers share (PostgreSQL) tells `listener` the change log's head soon after
   * another writer commits changes, so the hubs push them without waiting for their timer's read
   * of the head (INST-2). Optional: without it, and for anything it misses, the timer reads it.
   */
  watchHead?(listener: (head: number) => void): void;
  /**
   * A store other writers share (PostgreSQL) tells `listener` of users changed and tokens revoked
   * by another writer, at their commit, so supervisor pages follow at once (SUP-1, AUTH-3, AUTH-5).
   * Optional: without it, the pages' revalidation catches such changes.
   */
  watchAccounts?(listener: AccountsListener): void;
  /**
   * SUP-5: notify the supervisors of each terminal that has been offline since before
   * `offlineBefore` with work in its outbox, once per disconnection.
   */
  alertOfflineTerminals(offlineBefore: number, now: number): Promise<OfflineAlert[]>;

  getSupervision(): Promise<SupervisionSettings>;
  setSupervision(settings: SupervisionSettings, now: number): Promise<void>;
  /**
   * SUP-3 PERF-1: the performance window now ends on `day` (epochDay). The first call for a day later
   * than the one marked marks it and logs a change that sends every person to the supervisors' pages
   * again, whose scores are worked out for the day they are read; true then, else false.
   */
  markPerformanceDay(day: number, now: number): Promise<boolean>;
  /** SUP-1: a supervisor page's changes after `afterSeq`, only of its scope. */
  supervisorChangesPage(scope: SupervisorScope, afterSeq: number, limit: number, now: number): Promise<SupervisorChangesPage>;
  /** SUP-1: a supervisor page's fresh view of its scope, in pages. */
  supervisorSnapshotPage(
    scope: SupervisorScope,
    from: SupervisorSnapshotPosition | null,
    limit: number,
    now: number,
  ): Promise<SupervisorSnapshotPage>;
  listExceptions(filter: ExceptionFilter, page: { limit: number; offset: number }): Promise<Page<BoardException>>;
  getException(id: number): Promise<BoardException | null>;
  /** SUP-4: mark an open exception handled by `userId`; returns it as it is now (null if unknown). */
  acknowledgeException(id: number, userId: string, now: number): Promise<BoardException | null>;
  /** Mark a user's notifications read (all of them when `ids` is null); returns how many changed. */
  markNotificationsRead(userId: string, ids: readonly number[] | null, now: number): Promise<number>;
  /** SUP-6: the audit trail, newest first. */
  searchAudit(filter: AuditFilter, page: { limit: number; offset: number }): Promise<Page<AuditRecord>>;

  createApiToken(input: ApiTokenRecord & { tokenHash: string }, now: number): Promise<void>;
  /** AUTH-1: a token by its hash with its user (null when the user is gone), in one read: what every request asks. */
  findApiTokenWithUser(tokenHash: string): Promise<{ token: ApiTokenRecord; user: UserRecord | null } | null>;
  getApiToken(id: string): Promise<ApiTokenRecord | null>;
  /**
   * `reason` travels to other instances with the revocation (watchAccounts), so their pages of the
   * session say why they closed, as this instance's do.
   */
  revokeApiToken(id: string, now: number, reason?: RevokeReason): Promise<void>;
  listApiTokens(userId?: string): Promise<ApiTokenRecord[]>;
  /**
   * SEC-3: keep at most `keep` live (unrevoked, unexpired) sessions of a user, revoking the oldest;
   * returns the ids revoked.
   */
  revokeOldestSessions(userId: string, keep: number, now: number): Promise<string[]>;
  /**
   * SEC-3: forget sessions that expired or were revoked before `before`, and sign-in failure
   * counters whose window started before `windowStart` and that lock nothing now. Returns counts.
   */
  pruneAuth(before: number, windowStart: number, now: number): Promise<{ sessions: number; failureKeys: number }>;

  getSignInFailures(key: string): Promise<SignInFailureState | null>;
  setSignInFailures(key: string, state: SignInFailureState | null): Promise<void>;
  audit(entry: AuditEntry, now: number): Promise<void>;
  listAudit(filter: { taskId?: string; limit: number }): Promise<AuditRecord[]>;

  /**
   * IMP-1: all rows or none. With `scope` (a supervisor's import, IMP-3) every row's department,
   * and an existing task's current department, must be one of `scope.departmentIds`; checked in
   * the same transaction as the write.
   */
  importTasks(rows: readonly ImportTaskRow[], now: number, scope?: { departmentIds: readonly string[] }): Promise<ImportResult>;
  getTask(id: string, now: number): Promise<SyncTask | null>;
  listTasks(filter: TaskFilter, page: { limit: number; offset: number }): Promise<Page<Task>>;
  /**
   * LIST-1: the tasks `userId` could claim now, in claimable order; with `departmentIds`, only those
   * of these departments (SEC-10: a supervisor looking at an operator who also works elsewhere
   * sees only the departments they supervise).
   */
  listClaimable(userId: string, now: number, page: { limit: number; offset: number }, departmentIds?: readonly string[]): Promise<Page<Task>>;
  listAssignments(taskId: string): Promise<Assignment[]>;
  listNotifications(userId: string, limit: number): Promise<BoardNotification[]>;

  /** PROTO-5: stored outcomes after `afterId`, in order, each with its task as it is now (`now`). */
  outcomesAfter(terminalId: string, afterId: number, limit: number, now: number): Promise<MutationOutcome[]>;
  headSeq(): Promise<number>;
  /** Changes with a sequence at or below this were pruned: older cursors need a snapshot. */
  prunedThroughSeq(): Promise<number>;
  changesPage(departments: readonly string[], afterSeq: number, limit: number, now: number): Promise<ChangesPage>;
  snapshotPage(departments: readonly string[], from: SnapshotPosition | null, limit: number, now: number): Promise<SnapshotPage>;
  /** Drop change-log rows of finished tasks older than `before`; returns how many. */
  pruneChanges(before: number): Promise<number>;

  stats(): Promise<StoreStats>;
  /** Write a consistent copy of the whole store to `file` while it stays online. */
  backup(file: string): Promise<void>;
}

/**
 * A store behind a network link (PostgreSQL) can say whether the link is up: one round trip to the
 * database, for /healthz, rejecting with what went wrong. Embedded stores (SQLite) have no link.
 */
export interface StoreLink {
  ping(timeoutMs?: number): Promise<void>;
}

export function hasLink(store: ServerStore): store is ServerStore & StoreLink {
  return typeof (store as Partial<StoreLink>).ping === 'function';
}

/** Why a session or API token ended: its owner signed out (or a newer sign-in pushed it out, SEC-3), or it was revoked. */
export type RevokeReason = 'signed_out' | 'revoked';

/** What another writer did to the accounts (ServerStore.watchAccounts). */
export interface AccountsListener {
  userChanged(userId: string): void;
  tokenRevoked(tokenId: string, reason: RevokeReason): void;
}
