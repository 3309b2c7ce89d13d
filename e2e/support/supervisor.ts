/** Steps on the supervisors' overview that several tests share, and the HTTP API for setting up. */
import { expect, type Page } from '@playwright/test';
import { PLANT } from './plant.js';

export function credentialsOf(who: keyof typeof PLANT.supervisors | 'ada'): { userId: string; password: string } {
  if (who === 'ada') return { userId: PLANT.admin.id, password: PLANT.admin.password };
  const s = PLANT.supervisors[who];
  return { userId: s.id, password: s.password };
}

/** Sign in on the overview's form with user id and password; waits until the board is live. */
export async function signInSupervisor(page: Page, who: keyof typeof PLANT.supervisors | 'ada'): Promise<void> {
  const { userId, password } = credentialsOf(who);
  await expect(page.getByTestId('sv-signin')).toBeVisible();
  await page.getByTestId('sv-signin-user').fill(userId);
  await page.getByTestId('sv-signin-password').fill(password);
  await page.getByTestId('sv-signin-submit').click();
  await expect(page.getByTestId('sv-live')).toHaveAttribute('data-state', 'live');
}

/** A bearer token for the HTTP API (test setup and checks). */
export async function apiToken(serverUrl: string, body: Record<string, unknown>): Promise<string> {
  const r = await fetch(`${serverUrl}/api/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`sign-in for the test failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

export async function api<T = Record<string, unknown>>(serverUrl: string, token: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await fetch(`${serverUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : {}) as T };
}
