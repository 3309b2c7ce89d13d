/** The fixed top bar: title and scope, the live state, auto-assign, notifications, language, who is signed in. */
import { useTranslation } from 'react-i18next';
import { unreadCount } from '../selectors.js';
import { useApp, useBoard, useSession, useUi } from '../stores/hooks.js';
import { LiveIndicator } from './LiveIndicator.js';
import { LocaleSwitch } from './LocaleSwitch.js';

export function TopBar() {
  const { t } = useTranslation();
  const app = useApp();
  const user = useSession((s) => s.user);
  const scope = useBoard((s) => s.welcome?.scope);
  const departments = useBoard((s) => s.departments);
  const unread = useBoard(unreadCount);
  const notificationsOpen = useUi((s) => s.notificationsOpen);
  const scopeText = !scope ? '' : scope.all ? t('sv.scope.all') : scope.departmentIds.map((d) => departments.get(d)?.name ?? d).join(', ');
  return (
    <header className="sv-top">
      <div className="sv-top-left">
        <span className="sv-brand">{t('sv.app.title')}</span>
        <span className="sv-scope" data-testid="sv-scope">
          {scopeText}
        </span>
      </div>
      <div className="sv-top-right">
        <LiveIndicator />
        <button type="button" className="sv-btn sv-btn-small" data-testid="sv-auto-assign" onClick={() => app.actions.openAutoAssign(null)}>
          {t('sv.auto.open')}
        </button>
        <button
          type="button"
          className="sv-btn sv-btn-small sv-bell"
          aria-label={t('sv.notifications.open', { count: unread })}
          aria-expanded={notificationsOpen}
          data-testid="sv-bell"
          data-unread={unread}
          onClick={() => app.ui.getState().toggleNotifications()}
        >
          <svg aria-hidden="true" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
            <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
            <path d="M13.7 21a2 2 0 0 1-3.4 0" />
          </svg>
          {unread > 0 && <span className="sv-badge">{unread}</span>}
        </button>
        <LocaleSwitch />
        <span className="sv-user" data-testid="sv-user">
          {user?.displayName}
        </span>
        <button type="button" className="sv-btn sv-btn-small sv-btn-ghost-dark" data-testid="sv-sign-out" onClick={() => void app.session.getState().signOut()}>
          {t('sv.signOut')}
        </button>
      </div>
    </header>
  );
}
