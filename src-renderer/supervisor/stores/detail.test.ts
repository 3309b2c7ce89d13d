/**
 * SUP-3 on the page: the open task's history follows the task's version. Loads for two versions on
 * their way at once: the newer one's answer stays, whichever comes last. A fake HTTP client whose
 * answers the test releases stands in for the server.
 */
import { describe, expect, it } from 'vitest';
import type { Http } from '../api/http.js';
import { createDetailStore, type TaskHistory } from './detail.js';

const history = (version: number) => ({ task: { id: 't1', version }, assignments: [], audit: [], exceptions: [], names: {}, terminals: {} }) as unknown as TaskHistory;

describe('SUP-3 the open task\u2019s history', () => {
  it('keeps the newer version\u2019s history when an older load answers last', async () => {
    const answers: Array<(h: TaskHistory) => void> = [];
    const http = { get: () => new Promise<TaskHistory>((resolve) => answers.push(resolve)) } as unknown as Http;
    const store = createDetailStore(http);
    const older = store.getState().load('t1', 3);
    const newer = store.getState().load('t1', 4);
    answers[1]!(history(4));
    await newer;
    answers[0]!(history(3));
    await older;
    expect((store.getState().history as unknown as { task: { version: number } }).task.version).toBe(4);
    expect(store.getState()).toMatchObject({ loadedVersion: 4, loading: false });
  });
});
