/** The overview: the sign-in form until a supervisor is signed in, then the board. */
import { useTranslation } from 'react-i18next';
import { useSession } from '../stores/hooks.js';
import { Shell } from './Shell.js';
import { SignIn } from './SignIn.js';

export function App() {
  const { t } = useTranslation();
  const status = useSession((s) => s.status);
  if (status === 'checking') {
    return (
      <div className="sv-center" data-testid="sv-checking">
        <p className="sv-muted">{t('sv.app.checking')}</p>
      </div>
    );
  }
  return status === 'signedIn' ? <Shell /> : <SignIn />;
}
