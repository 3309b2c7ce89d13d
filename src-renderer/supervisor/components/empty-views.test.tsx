/**
 * SUP-3 on the page: the People and Terminals views say when they have nothing to list (nobody or
 * no terminal in the supervisor's departments, or no one matching the filters), in English and
 * Chinese, instead of showing an empty table.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { describe, expect, it } from 'vitest';
import type { Locale } from '../../../src-shared/domain/i18n.js';
import { emptySupervisorChanges, type Person } from '../../../src-shared/protocol/supervisor.js';
import { testSupervisorApp } from '../../testing/supervisor-app.js';
import { createSupervisorI18n } from '../i18n.js';
import type { SupervisorApp } from '../stores/app.js';
import { AppContext } from '../stores/hooks.js';
import { PeopleView } from './PeopleView.js';
import { TerminalsView } from './TerminalsView.js';

function render(app: SupervisorApp, view: 'people' | 'terminals', locale: Locale = 'en'): string {
  return renderToStaticMarkup(
    <I18nextProvider i18n={createSupervisorI18n(locale)}>
      <AppContext.Provider value={app}>{view === 'people' ? <PeopleView /> : <TerminalsView />}</AppContext.Provider>
    </I18nextProvider>,
  );
}

const ann: Person = {
  id: 'ann',
  displayName: 'Ann Lee',
  roles: ['operator'],
  departmentIds: ['cut'],
  active: true,
  skills: ['saw'],
  activeCount: 0,
  limit: 10,
  performance: { score: 1, submitted: 0, rejected: 0, expired: 0 },
  presence: null,
};

describe('SUP-3 empty People and Terminals views', () => {
  it('SUP-3 with nobody in the scope, People says so instead of an empty table, in English and Chinese', () => {
    const app = testSupervisorApp();
    expect(render(app, 'people')).toContain('data-testid="sv-people-none"');
    expect(render(app, 'people')).toContain('No operators in your departments.');
    expect(render(app, 'people', 'zh')).toContain('您的部门中没有操作员。');
  });

  it('SUP-3 a People filter that matches no one says so, and that the filters are why', () => {
    // (A server render reads each store as it was made: the filter comes with the URL.)
    const floor = { ...emptySupervisorChanges('snapshot', 1), reset: true, people: [ann] };
    const all = testSupervisorApp({ search: '?view=people' });
    all.board.getState().applyPage(floor, 1);
    expect(render(all, 'people')).toContain('Ann Lee');
    expect(render(all, 'people')).not.toContain('sv-people-none');
    const welders = testSupervisorApp({ search: '?view=people&skill=weld' });
    welders.board.getState().applyPage(floor, 1);
    expect(render(welders, 'people')).toContain('No operator matches these filters.');
    expect(render(welders, 'people', 'zh')).toContain('没有符合筛选条件的操作员。');
  });

  it('SUP-3 with no terminal in the scope, Terminals says so instead of an empty table, in English and Chinese', () => {
    const app = testSupervisorApp();
    expect(render(app, 'terminals')).toContain('data-testid="sv-terminals-none"');
    expect(render(app, 'terminals')).toContain('No terminals serve your departments.');
    expect(render(app, 'terminals', 'zh')).toContain('没有为您的部门服务的终端。');
  });
});
