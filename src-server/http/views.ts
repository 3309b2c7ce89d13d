/**
 * What the API shows of stored records: never a hash of a badge, PIN, password or token.
 */
import type { ApiTokenRecord, TerminalRecord, UserRecord } from '../store/types.js';

export interface PublicUser {
  id: string;
  displayName: string;
  roles: UserRecord['roles'];
  departmentIds: string[];
  active: boolean;
  taskLimit: number | null;
  skills: string[];
  qualityScore: number;
  hasBadge: boolean;
  hasPin: boolean;
  hasPassword: boolean;
}

export function publicUser(u: UserRecord): PublicUser {
  return {
    id: u.id,
    displayName: u.displayName,
    roles: u.roles,
    departmentIds: u.departmentIds,
    active: u.active,
    taskLimit: u.taskLimit,
    skills: u.skills,
    qualityScore: u.qualityScore,
    hasBadge: u.badgeHash !== null,
    hasPin: u.pinHash !== null,
    hasPassword: u.passwordHash !== null,
  };
}

export interface TerminalView {
  id: string;
  name: string;
  departments: string[];
  active: boolean;
  /** Connected over WebSocket right now, to any instance (the store's presence, INST-3). */
  connected: boolean;
  lastSeenAt: number | null;
  signedInUserId: string | null;
  signedInAt: number | null;
  lastMutationId: number;
  clockOffsetMs: number | null;
  createdAt: number;
}

/**
 * INST-3: `connected` is the presence the store keeps (as the overview shows it), not this
 * instance's own links: on a shared PostgreSQL database a terminal may be connected to another.
 */
export function terminalView(t: TerminalRecord): TerminalView {
  return {
    id: t.id,
    name: t.name,
    departments: t.departments,
    active: t.active,
    connected: t.connected,
    lastSeenAt: t.lastSeenAt,
    signedInUserId: t.signedInUserId,
    signedInAt: t.signedInAt,
    lastMutationId: t.lastMutationId,
    clockOffsetMs: t.clockOffsetMs,
    createdAt: t.createdAt,
  };
}

export function tokenView(t: ApiTokenRecord): ApiTokenRecord {
  return { id: t.id, userId: t.userId, name: t.name, kind: t.kind, expiresAt: t.expiresAt, revokedAt: t.revokedAt };
}
