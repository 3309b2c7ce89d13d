/** The screen for the terminal's state: loading, enrollment, badge, or work. */
import { useTranslation } from 'react-i18next';
import { screenOf } from '../stores/terminal.js';
import { useSession, useTerminal } from '../stores/hooks.js';
import { BadgeScreen } from './BadgeScreen.js';
import { EnrollScreen } from './EnrollScreen.js';
import { WorkScreen } from './WorkScreen.js';

export function App() {
  const { t } = useTranslation();
  const signedIn = useSession((s) => s.session !== null);
  const operator = useSession((s) => s.session?.userId ?? null);
  const screen = useTerminal((s) => screenOf(s, signedIn));
  const linkUp = useTerminal((s) => s.linkUp);
  return (
    <div className="app" data-screen={screen}>
      {linkUp === false && (
        <div className="link-down" role="alert" data-testid="link-down">
          {t('link.down')}
        </div>
      )}
      {screen === 'loading' && (
        <div className="center" data-testid="loading">
          <p className="lead">{t('app.loading')}</p>
        </div>
      )}
      {screen === 'enroll' && <EnrollScreen />}
      {screen === 'badge' && <BadgeScreen />}
      {/* Keyed by the operator: what one left open (a reject dialog) is gone for the next. */}
      {screen === 'work' && <WorkScreen key={operator ?? ''} />}
    </div>
  );
}
