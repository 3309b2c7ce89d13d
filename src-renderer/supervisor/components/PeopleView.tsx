/**
 * SUP-3: the operators of the scope: where each is signed in and since when, their load against
 * their limit, what they completed this shift, and their performance (PERF-1); by department and
 * skill. A name opens their tasks.
 */
import { useTranslation } from 'react-i18next';
import { compareNames, formatWhen } from '../format.js';
import { useCompletedByPerson, useDepartments } from '../selectors.js';
import { useApp, useBoard, useUi, useView } from '../stores/hooks.js';
import { Empty } from './Empty.js';
import { LoadBar } from './LoadBar.js';

export function PeopleView() {
  const { t } = useTranslation();
  const app = useApp();
  useBoard((s) => s.version);
  const filter = useView((s) => s.people);
  const departments = useDepartments();
  const completed = useCompletedByPerson();
  const tz = useBoard((s) => s.supervision.timeZone);
  const now = useUi((s) => s.now);
  const locale = useUi((s) => s.locale);
  const board = app.board.getState();
  const skills = [...new Set([...board.people.values()].flatMap((p) => p.skills))].sort();
  const names = new Map(departments.map((d) => [d.id, d.name]));
  const people = [...board.people.values()]
    .filter((p) => (!filter.departmentId || p.departmentIds.includes(filter.departmentId)) && (!filter.skill || p.skills.includes(filter.skill)))
    .sort((a, b) => Number(b.presence !== null) - Number(a.presence !== null) || compareNames(a.displayName, b.displayName, locale));
  return (
    <section className="sv-page" aria-labelledby="sv-people-title">
      <div className="sv-toolbar">
        <h2 id="sv-people-title">
          {t('sv.view.people')} <span className="sv-count">{people.length}</span>
        </h2>
        <label className="sv-inline">
          <span>{t('sv.col.department')}</span>
          <select className="sv-select" value={filter.departmentId ?? ''} data-testid="sv-people-department" onChange={(e) => app.view.getState().setPeople({ ...filter, departmentId: e.target.value || undefined })}>
            <option value="">{t('sv.any')}</option>
            {departments.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label className="sv-inline">
          <span>{t('sv.people.skill')}</span>
          <select className="sv-select" value={filter.skill ?? ''} data-testid="sv-people-skill" onChange={(e) => app.view.getState().setPeople({ ...filter, skill: e.target.value || undefined })}>
            <option value="">{t('sv.any')}</option>
            {skills.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="sv-scroll">
        <table className="sv-table sv-sticky" data-testid="sv-people">
          <thead>
            <tr>
              <th scope="col">{t('sv.people.name')}</th>
              <th scope="col">{t('sv.people.departments')}</th>
              <th scope="col">{t('sv.people.where')}</th>
              <th scope="col">{t('sv.people.load')}</th>
              <th scope="col" className="sv-num">
                {t('sv.people.completed')}
              </th>
              <th scope="col" className="sv-num">
                {t('sv.people.performance')}
              </th>
              <th scope="col">{t('sv.people.skills')}</th>
            </tr>
          </thead>
          <tbody>
            {people.map((p) => {
              const terminalId = p.presence?.terminalId ?? null;
              const terminal = terminalId ? (board.terminals.get(terminalId)?.name ?? terminalId) : t('sv.people.elsewhere');
              return (
                <tr key={p.id} data-testid={`sv-person-${p.id}`} data-active-count={p.activeCount}>
                  <th scope="row">
                    <button type="button" className="sv-link" onClick={() => app.view.getState().showTasks({ operatorId: p.id, state: 'open' })}>
                      {p.displayName}
                    </button>
                    {!p.active && <span className="sv-tag"> {t('sv.people.inactive')}</span>}
                  </th>
                  <td>{p.departmentIds.map((d) => names.get(d) ?? d).join(', ')}</td>
                  <td data-testid={`sv-person-where-${p.id}`}>
                    {p.presence ? (
                      <span className="sv-present">
                        <span aria-hidden="true">●</span> {t('sv.people.at', { terminal, since: formatWhen(p.presence.since, now, tz, locale) })}
                      </span>
                    ) : (
                      <span className="sv-muted">
                        <span aria-hidden="true">○</span> {t('sv.people.notSignedIn')}
                      </span>
                    )}
                  </td>
                  <td>
                    <LoadBar count={p.activeCount} limit={p.limit} />
                  </td>
                  <td className="sv-num">{completed.get(p.id) ?? 0}</td>
                  <td className="sv-num" title={t('sv.people.performanceHelp', p.performance)} data-testid={`sv-person-perf-${p.id}`}>
                    {Math.round(p.performance.score * 100)}%
                    <span className="sv-muted sv-small">
                      {' '}
                      ({p.performance.submitted}✓ {p.performance.rejected}↩ {p.performance.expired}◷)
                    </span>
                  </td>
                  <td>{p.skills.join(', ')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {people.length === 0 && <Empty testId="sv-people-none">{t(board.people.size === 0 ? 'sv.people.none' : 'sv.people.noneMatch')}</Empty>}
      </div>
    </section>
  );
}
