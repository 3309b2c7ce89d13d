/**
 * Signing in to the overview (SUP-1, AUTH-8): user id and password, or badge and PIN. Only
 * supervisors and administrators get in; anyone else is told so. After a session ended, the form
 * says why (signed out, expired, revoked).
 */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorText } from '../../i18n/index.js';
import { useApp, useSession } from '../stores/hooks.js';
import { LocaleSwitch } from './LocaleSwitch.js';

export function SignIn() {
  const { t, i18n } = useTranslation();
  const session = useApp().session;
  const ended = useSession((s) => s.ended);
  const error = useSession((s) => s.error);
  const busy = useSession((s) => s.busy);
  const [method, setMethod] = useState<'password' | 'badge'>('password');
  const [userId, setUserId] = useState('');
  const [password, setPassword] = useState('');
  const [badge, setBadge] = useState('');
  const [pin, setPin] = useState('');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void session.getState().signIn(method === 'password' ? { method, userId, password } : { method, badge, pin });
  };
  const refusal = error ? errorText(i18n.t.bind(i18n), error) : null;

  return (
    <div className="sv-signin-page">
      <div className="sv-signin-locale">
        <LocaleSwitch />
      </div>
      <form className="sv-signin" onSubmit={submit} aria-labelledby="sv-signin-title" data-testid="sv-signin">
        <h1 id="sv-signin-title">{t('sv.signin.title')}</h1>
        <p className="sv-muted">{t('sv.signin.intro')}</p>
        {ended && (
          <p className="sv-note" role="status" data-testid="sv-signin-ended" data-reason={ended}>
            {t(`sv.signin.ended.${ended}`)}
          </p>
        )}
        <div className="sv-tabs" role="tablist" aria-label={t('sv.signin.method')}>
          {(['password', 'badge'] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={method === m}
              className={`sv-tab${method === m ? ' sv-tab-on' : ''}`}
              data-testid={`sv-signin-method-${m}`}
              onClick={() => setMethod(m)}
            >
              {t(`sv.signin.method.${m}`)}
            </button>
          ))}
        </div>
        {method === 'password' ? (
          <>
            <label className="sv-field">
              <span>{t('sv.signin.userId')}</span>
              <input className="sv-input" name="userId" autoComplete="username" value={userId} onChange={(e) => setUserId(e.target.value)} data-testid="sv-signin-user" required />
            </label>
            <label className="sv-field">
              <span>{t('sv.signin.password')}</span>
              <input
                className="sv-input"
                type="password"
                name="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                data-testid="sv-signin-password"
                required
              />
            </label>
          </>
        ) : (
          <>
            <label className="sv-field">
              <span>{t('sv.signin.badge')}</span>
              <input className="sv-input" name="badge" autoComplete="off" value={badge} onChange={(e) => setBadge(e.target.value)} data-testid="sv-signin-badge" required />
            </label>
            <label className="sv-field">
              <span>{t('sv.signin.pin')}</span>
              <input
                className="sv-input"
                type="password"
                inputMode="numeric"
                name="pin"
                autoComplete="off"
                value={pin}
                onChange={(e) => setPin(e.target.value)}
                data-testid="sv-signin-pin"
                required
              />
            </label>
          </>
        )}
        {refusal && (
          <div className="sv-error" role="alert" data-testid="sv-signin-error" data-code={error!.code}>
            <strong>{refusal.message}</strong>
            <span>{refusal.suggestion}</span>
          </div>
        )}
        <button type="submit" className="sv-btn sv-btn-primary sv-btn-block" disabled={busy} data-testid="sv-signin-submit">
          {t('sv.signin.submit')}
        </button>
      </form>
    </div>
  );
}
