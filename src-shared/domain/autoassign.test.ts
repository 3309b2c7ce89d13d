import { describe, expect, it } from 'vitest';
import { MemoryModel, makeTask, makeUser } from '../../test/support/memory-model.js';
import { decideAutoAssign, pickAssignee, type Candidate } from './autoassign.js';

const c = (userId: string, activeCount: number, limit: number, qualityScore: number): Candidate => ({
  userId,
  activeCount,
  limit,
  qualityScore,
});

describe('auto-assignment strategies', () => {
  const pool = [c('u3', 1, 10, 0.5), c('u1', 5, 10, 0.9), c('u2', 0, 2, 0.7)];

  it('AUTO-2 round robin takes the next operator after the previous pick, wrapping around', () => {
    expect(pickAssignee('round_robin', pool, { lastUserId: null, capacityWeight: 0.5 })).toBe('u1');
    expect(pickAssignee('round_robin', pool, { lastUserId: 'u1', capacityWeight: 0.5 })).toBe('u2');
    expect(pickAssignee('round_robin', pool, { lastUserId: 'u3', capacityWeight: 0.5 })).toBe('u1');
    expect(pickAssignee('round_robin', pool, { lastUserId: 'u25', capacityWeight: 0.5 })).toBe('u3');
  });

  it('AUTO-3 least loaded takes the lowest share of the limit in use', () => {
    expect(pickAssignee('least_loaded', pool, { lastUserId: null, capacityWeight: 0.5 })).toBe('u2');
    expect(pickAssignee('least_loaded', [c('a', 2, 10, 0), c('b', 1, 5, 0)], { lastUserId: null, capacityWeight: 0 })).toBe('b');
  });

  it('AUTO-4 performance weighted takes the best quality score, then the lower load', () => {
    expect(pickAssignee('performance_weighted', pool, { lastUserId: null, capacityWeight: 0.5 })).toBe('u1');
    expect(
      pickAssignee('performance_weighted', [c('a', 5, 10, 0.9), c('b', 1, 10, 0.9)], { lastUserId: null, capacityWeight: 0 }),
    ).toBe('b');
  });

  it('AUTO-5 hybrid blends spare capacity and quality by the weight', () => {
    // u1: 0.5*0.5 + 0.5*0.9 = 0.70; u2: 0.5*1 + 0.5*0.7 = 0.85; u3: 0.5*0.9 + 0.5*0.5 = 0.70
    expect(pickAssignee('hybrid', pool, { lastUserId: null, capacityWeight: 0.5 })).toBe('u2');
    expect(pickAssignee('hybrid', pool, { lastUserId: null, capacityWeight: 0 })).toBe('u1');
    expect(pickAssignee('hybrid', pool, { lastUserId: null, capacityWeight: 1 })).toBe('u2');
  });

  it('AUTO-1 nobody eligible gives no pick', () => {
    expect(pickAssignee('hybrid', [], { lastUserId: null, capacityWeight: 0.5 })).toBeNull();
  });

  it('AUTO-1 eligibility: skills, cooldown and every assign rule', () => {
    const m = new MemoryModel()
      .addUser(makeUser('boss', { roles: ['supervisor'] }))
      .addUser(makeUser('ann', { skills: ['weld'] }))
      .addUser(makeUser('bob'))
      .addTask(makeTask('t1', { requiredSkills: ['weld'] }));
    const facts = (userId: string, now = 0) => ({
      ...m.base('t1', now),
      actor: m.users.get('boss')!,
      target: m.operatorFacts(userId, 't1'),
      mode: 'assign' as const,
    });
    expect(decideAutoAssign(facts('ann')).ok).toBe(true);
    const noSkill = decideAutoAssign(facts('bob'));
    expect(!noSkill.ok && noSkill.error.code).toBe('no_eligible_operator');
    m.cooldowns.set('t1/ann', 1000);
    const cooling = decideAutoAssign(facts('ann', 10));
    expect(!cooling.ok && cooling.error.code).toBe('cooldown_active');
    expect(decideAutoAssign(facts('ann', 1000)).ok).toBe(true);
  });
});
