/**
 * Administration (API-8): departments, users, terminals and the site configuration. Admins
 * write; supervisors may read users and terminals; every signed-in user may read departments and
 * the configuration. Secrets arrive in plain text over the request, are hashed at once (badges
 * with the site salt, PINs and passwords with scrypt, terminal tokens with SHA-256) and are never
 * returned, except a new terminal token, once.
 */
import { z } from 'zod';
import { badgeHash, newToken, tokenHash } from '../../../src-shared/crypto/hash.js';
import { hashPinAsync, hashSecretAsync } from '../../secrets.js';
import { siteConfigSchema } from '../../../src-shared/domain/config.js';
import { pinPolicyProblem } from '../../../src-shared/domain/credentials.js';
import { DomainError } from '../../../src-shared/domain/errors.js';
import type { Department } from '../../../src-shared/domain/types.js';
import { CLOSE_CODES } from '../../../src-shared/protocol/terminal.js';
import type { AuditEntry } from '../../engine/ports.js';
import type { NewUser, UserPatch, UserRecord } from '../../store/types.js';
import { isAdmin } from '../../auth.js';
import { ok, type Reply } from '../respond.js';
import type { Router } from '../router.js';
import {
  configPatchBody,
  departmentCreateBody,
  departmentUpdateBody,
  terminalCreateBody,
  terminalPatchBody,
  userCreateBody,
  userPatchBody,
  usersQuery,
} from '../schemas.js';
import type { Scope } from '../scope.js';
import { validate } from '../body.js';
import { publicUser, terminalView } from '../views.js';

function taken(field: string, what: string): DomainError {
  return new DomainError('invalid_input', { field, problem: `is already used by ${what}` });
}

/**
 * A write refused by the database's own uniqueness (primary key, unique badge): another request
 * took the id or badge between this one's check and its write (a double click, a retry). SQLite's
 * and PostgreSQL's codes.
 */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** Run a write; a uniqueness refusal is `taken()`, the same answer the checks before it give. */
async function orTaken(write: () => Promise<void>, taken: () => Promise<DomainError> | DomainError): Promise<void> {
  try {
    await write();
  } catch (err) {
    throw isUniqueViolation(err) ? await taken() : err;
  }
}

async function audit(s: Scope, actorId: string, action: string, details: Record<string, unknown>): Promise<void> {
  const entry: AuditEntry = { action, outcome: 'applied', actorId, terminalId: null, via: 'http', taskId: null, details };
  await s.ctx.store.audit(entry, s.ctx.clock.now());
}

/** Each department id must exist; the error names the field that holds the unknown one. */
async function checkDepartments(s: Scope, field: string, ids: readonly string[]): Promise<void> {
  const known = new Set((await s.ctx.store.listDepartments()).map((d) => d.id));
  ids.forEach((id, i) => {
    if (!known.has(id)) throw new DomainError('invalid_input', { field: `${field}.${i}`, problem: `names department "${id}", which does not exist` });
  });
}

// ---------------------------------------------------------------------------------------------
// Departments

async function listDepartments(s: Scope): Promise<Reply> {
  await s.auth();
  return ok({ items: await s.ctx.store.listDepartments() });
}

async function createDepartment(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('admin');
  const body = await s.json(departmentCreateBody);
  if ((await s.ctx.store.listDepartments()).some((d) => d.id === body.id)) throw taken('id', 'another department');
  const department: Department = { id: body.id, name: body.name, taskLimit: body.taskLimit ?? null };
  await s.ctx.store.upsertDepartment(department, s.ctx.clock.now());
  await audit(s, user.id, 'department_create', { departmentId: department.id });
  return ok({ department }, 201);
}

async function updateDepartment(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('admin');
  const id = s.id();
  const body = await s.json(departmentUpdateBody);
  const before = (await s.ctx.store.listDepartments()).find((d) => d.id === id);
  if (!before) throw new DomainError('department_not_found', { departmentId: id });
  const department: Department = {
    id,
    name: body.name ?? before.name,
    taskLimit: body.taskLimit === undefined ? before.taskLimit : body.taskLimit,
  };
  await s.ctx.store.upsertDepartment(department, s.ctx.clock.now());
  await audit(s, user.id, 'department_update', { departmentId: id, fields: Object.keys(body) });
  return ok({ department });
}

// ---------------------------------------------------------------------------------------------
// Users

/** SEC-10: a supervisor sees the people and terminals of their own departments; an admin all. */
function sharesDepartment(reader: UserRecord, departmentIds: readonly string[]): boolean {
  return isAdmin(reader) || departmentIds.some((d) => reader.departmentIds.includes(d));
}

async function listUsers(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('supervisor');
  const q = s.queryAs(usersQuery);
  if (q.departmentId !== undefined && !sharesDepartment(user, [q.departmentId])) {
    throw new DomainError('permission_denied', { departmentId: q.departmentId, problem: 'you may read only the people of your own departments' });
  }
  const users = await s.ctx.store.listUsers({
    departmentId: q.departmentId,
    role: q.role,
    active: q.active === undefined ? undefined : q.active === 'true',
  });
  return ok({ items: users.filter((u) => u.id === user.id || sharesDepartment(user, u.departmentIds)).map(publicUser) });
}

async function getUser(s: Scope): Promise<Reply> {
  const { user } = await s.auth();
  const id = s.id();
  if (id !== user.id) await s.authAs('supervisor');
  const found = await s.ctx.store.getUser(id);
  if (!found || (found.id !== user.id && !sharesDepartment(user, found.departmentIds))) throw new DomainError('user_not_found', { userId: id });
  return ok({ user: publicUser(found) });
}

async function badgeOf(s: Scope, badge: string | null | undefined, userId: string): Promise<string | null | undefined> {
  if (badge === undefined || badge === null) return badge;
  const hash = badgeHash(await s.ctx.store.siteSalt(), badge);
  const holder = await s.ctx.store.findUserByBadgeHash(hash);
  if (holder && holder.id !== userId) throw taken('badge', 'another user');
  return hash;
}

const secret = async (v: string | null | undefined) => (v === undefined || v === null ? v : hashSecretAsync(v));

/** SEC-31, SEC-32: a PIN being set must have the site's minimum length; it is hashed with the PIN parameters. */
async function pinHashOf(s: Scope, pin: string | null | undefined): Promise<string | null | undefined> {
  if (pin === undefined || pin === null) return pin;
  const problem = pinPolicyProblem(pin, (await s.ctx.store.getConfig()).pinMinLength);
  if (problem) throw new DomainError('invalid_input', { field: 'pin', problem });
  return hashPinAsync(pin);
}

async function createUser(s: Scope): Promise<Reply> {
  const { user: admin } = await s.authAs('admin');
  const body = await s.json(userCreateBody);
  if (await s.ctx.store.getUser(body.id)) throw taken('id', 'another user');
  await checkDepartments(s, 'departmentIds', body.departmentIds);
  const record: NewUser = {
    id: body.id,
    displayName: body.displayName,
    roles: [...new Set(body.roles)],
    departmentIds: [...new Set(body.departmentIds)],
    badgeHash: (await badgeOf(s, body.badge, body.id)) ?? null,
    pinHash: (await pinHashOf(s, body.pin)) ?? null,
    passwordHash: (await secret(body.password)) ?? null,
    active: body.active,
    taskLimit: body.taskLimit ?? null,
    skills: body.skills,
    qualityScore: body.qualityScore ?? 0.8,
  };
  await orTaken(
    () => s.ctx.store.createUser(record, s.ctx.clock.now()),
    async () => ((await s.ctx.store.getUser(record.id)) ? taken('id', 'another user') : taken('badge', 'another user')),
  );
  await audit(s, admin.id, 'user_create', { userId: record.id, roles: record.roles });
  return ok({ user: publicUser((await s.ctx.store.getUser(record.id))!) }, 201);
}

async function patchUser(s: Scope): Promise<Reply> {
  const { user: admin, token: adminToken } = await s.authAs('admin');
  const id = s.id();
  const body = await s.json(userPatchBody);
  const before = await s.ctx.store.getUser(id);
  if (!before) throw new DomainError('user_not_found', { userId: id });
  if (id === admin.id && (body.active === false || (body.roles && !body.roles.includes('admin')))) {
    throw new DomainError('invalid_input', { field: body.active === false ? 'active' : 'roles', problem: 'would take away your own administrator access' });
  }
  if (body.departmentIds) await checkDepartments(s, 'departmentIds', body.departmentIds);
  const patch: UserPatch = {};
  if (body.displayName !== undefined) patch.displayName = body.displayName;
  if (body.roles !== undefined) patch.roles = [...new Set(body.roles)];
  if (body.departmentIds !== undefined) patch.departmentIds = [...new Set(body.departmentIds)];
  if (body.active !== undefined) patch.active = body.active;
  if (body.taskLimit !== undefined) patch.taskLimit = body.taskLimit;
  if (body.skills !== undefined) patch.skills = body.skills;
  if (body.qualityScore !== undefined) patch.qualityScore = body.qualityScore;
  if (body.badge !== undefined) patch.badgeHash = (await badgeOf(s, body.badge, id)) ?? null;
  if (body.pin !== undefined) patch.pinHash = (await pinHashOf(s, body.pin)) ?? null;
  if (body.password !== undefined) patch.passwordHash = (await secret(body.password)) ?? null;
  await orTaken(() => s.ctx.store.updateUser(id, patch, s.ctx.clock.now()), () => taken('badge', 'another user'));
  // AUTH-3 SUP-1: the user's open supervisor pages follow the change at once (closed when
  // deactivated, no longer a supervisor, or of other departments).
  if (patch.active !== undefined || patch.roles !== undefined || patch.departmentIds !== undefined) await s.ctx.supervisors.userChanged(id);
  // AUTH-5: a new password (a reset after a leak, or a departure) ends the user's sessions, a
  // stolen one with it; their API tokens are credentials of their own, revoked one by one. An
  // administrator's own new password keeps the session that set it.
  if (body.password !== undefined) await endSessions(s, id, adminToken.id);
  // AUTH-3: deactivating is offboarding: every session and API token of the user is revoked, so
  // reactivating them later (a rehire, a mistake put right) brings none of the old credentials
  // back, a leaked one least of all. They sign in again; an administrator issues new API tokens.
  // Also for a user already inactive: a deactivation before this rule, or one whose revocations
  // were cut short, is completed by deactivating again.
  if (body.active === false) await endSessions(s, id, null, { apiTokens: true });
  await audit(s, admin.id, 'user_update', { userId: id, fields: Object.keys(body) });
  return ok({ user: publicUser((await s.ctx.store.getUser(id))!) });
}

/**
 * End `userId`'s live sessions but `keep` (revoked, and their supervisor pages closed with 4401),
 * and with `apiTokens` their live API tokens too.
 */
async function endSessions(s: Scope, userId: string, keep: string | null, opts: { apiTokens?: boolean } = {}): Promise<void> {
  const now = s.ctx.clock.now();
  for (const t of await s.ctx.store.listApiTokens(userId)) {
    if ((t.kind !== 'session' && !opts.apiTokens) || t.id === keep || t.revokedAt !== null || (t.expiresAt !== null && t.expiresAt <= now)) continue;
    await s.ctx.store.revokeApiToken(t.id, now);
    s.ctx.supervisors.revokeToken(t.id, 'revoked');
  }
}

// ---------------------------------------------------------------------------------------------
// Terminals

async function listTerminals(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('supervisor');
  const terminals = (await s.ctx.store.listTerminals()).filter((t) => sharesDepartment(user, t.departments));
  return ok({ items: terminals.map((t) => terminalView(t)) });
}

async function createTerminal(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('admin');
  const body = await s.json(terminalCreateBody);
  if (await s.ctx.store.getTerminal(body.id)) throw taken('id', 'another terminal');
  await checkDepartments(s, 'departments', body.departments);
  const token = newToken('term');
  const now = s.ctx.clock.now();
  await orTaken(
    () => s.ctx.store.createTerminal({ id: body.id, name: body.name, departments: [...new Set(body.departments)], tokenHash: tokenHash(token) }, now),
    () => taken('id', 'another terminal'),
  );
  await audit(s, user.id, 'terminal_create', { terminalId: body.id });
  const terminal = (await s.ctx.store.getTerminal(body.id))!;
  return ok({ terminal: terminalView(terminal), token }, 201);
}

async function patchTerminal(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('admin');
  const id = s.id();
  const body = await s.json(terminalPatchBody);
  if (!(await s.ctx.store.getTerminal(id))) throw new DomainError('not_found', { terminalId: id });
  if (body.departments) await checkDepartments(s, 'departments', body.departments);
  const token = body.rotateToken ? newToken('term') : null;
  await s.ctx.store.updateTerminal(id, {
    name: body.name,
    departments: body.departments ? [...new Set(body.departments)] : undefined,
    active: body.active,
    tokenHash: token ? tokenHash(token) : undefined,
  }, s.ctx.clock.now());
  await audit(s, user.id, 'terminal_update', { terminalId: id, fields: Object.keys(body) });
  // A disabled terminal, a replaced token or other departments take effect on the live connection at once.
  if (body.active === false || token) s.ctx.hub.disconnect(id, body.active === false ? 'terminal disabled' : 'terminal token replaced', CLOSE_CODES.unauthorized);
  else if (body.departments) s.ctx.hub.disconnect(id, 'terminal departments changed', CLOSE_CODES.reconfigured);
  const terminal = terminalView((await s.ctx.store.getTerminal(id))!);
  return ok(token ? { terminal, token } : { terminal });
}

/**
 * SEC-30: a terminal is being re-enrolled (pointed at another server or identity) by the
 * administrator whose session this is; the terminal's core reports it here, with that admin's
 * session, just before signing out, so the server's audit names who moved which terminal where.
 */
const reenrollmentBody = z
  .object({ serverUrl: z.string().trim().min(1).max(500), terminalId: z.string().trim().min(1).max(200) })
  .strict();

async function reportReenrollment(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('admin');
  const id = s.id();
  const body = await s.json(reenrollmentBody);
  if (!(await s.ctx.store.getTerminal(id))) throw new DomainError('not_found', { terminalId: id });
  await s.ctx.store.audit(
    {
      action: 'terminal_reenroll',
      outcome: 'applied',
      actorId: user.id,
      terminalId: id,
      via: 'http',
      taskId: null,
      details: { toServerUrl: body.serverUrl, toTerminalId: body.terminalId, remote: s.remote },
    },
    s.ctx.clock.now(),
  );
  return ok({ ok: true });
}

// ---------------------------------------------------------------------------------------------
// Site configuration

async function getConfig(s: Scope): Promise<Reply> {
  await s.auth();
  return ok({ config: await s.ctx.store.getConfig() });
}

async function putConfig(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('admin');
  const config = await s.json(siteConfigSchema);
  await s.ctx.store.setConfig(config, s.ctx.clock.now());
  await audit(s, user.id, 'config_update', { config });
  return ok({ config: await s.ctx.store.getConfig() });
}

/**
 * Change some settings, keep the rest (KIO-6: e.g. the kiosks' reject reasons). The merged
 * configuration is validated whole: an unknown or invalid field is refused and nothing changes.
 */
async function patchConfig(s: Scope): Promise<Reply> {
  const { user } = await s.authAs('admin');
  const patch = await s.json(configPatchBody);
  // validate(): an unknown field is named, like everywhere else (API-5).
  const merged = validate(siteConfigSchema, { ...(await s.ctx.store.getConfig()), ...patch });
  await s.ctx.store.setConfig(merged, s.ctx.clock.now());
  await audit(s, user.id, 'config_update', { changed: Object.keys(patch) });
  return ok({ config: await s.ctx.store.getConfig() });
}

export function adminRoutes(router: Router): void {
  router.get('/api/departments', listDepartments);
  router.post('/api/departments', createDepartment);
  router.put('/api/departments/:id', updateDepartment);
  router.get('/api/users', listUsers, { query: true });
  router.get('/api/users/:id', getUser);
  router.post('/api/users', createUser);
  router.patch('/api/users/:id', patchUser);
  router.get('/api/terminals', listTerminals);
  router.post('/api/terminals', createTerminal);
  router.patch('/api/terminals/:id', patchTerminal);
  router.post('/api/terminals/:id/re-enrollment', reportReenrollment);
  router.get('/api/config', getConfig);
  router.put('/api/config', putConfig);
  router.patch('/api/config', patchConfig);
}
