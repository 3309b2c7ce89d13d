/**
 * First run: the server address and this terminal's id and token. After "Connect" the screen
 * stays here until the server has welcomed the terminal, and shows why if it refuses. A terminal
 * its server has accepted is re-enrolled only with an administrator's user id and password or
 * the maintenance secret (SEC-30): the screen asks for them when the core says so.
 */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useShallow } from 'zustand/react/shallow';
import { useStores, useTerminal } from '../stores/hooks.js';
import { ErrorNotice } from './ErrorNotice.js';
import { TopBar } from './TopBar.js';

export function EnrollScreen() {
  const { t } = useTranslation();
  const stores = useStores();
  const { terminalId, serverUrl, accepted } = useTerminal(
    useShallow((s) => ({ terminalId: s.identity?.terminalId ?? null, serverUrl: s.identity?.serverUrl ?? null, accepted: s.identity?.name != null })),
  );
  const lastError = useTerminal((s) => s.sync?.lastError ?? null);
  const enrolling = useTerminal((s) => s.enrolling);
  const enrollError = useTerminal((s) => s.enrollError);
  const [form, setForm] = useState({ serverUrl: serverUrl ?? '', terminalId: terminalId ?? '', token: '', adminUserId: '', adminPassword: '', maintenanceSecret: '' });
  // SEC-30: the core refused a re-enrollment without authority, or the terminal is in service.
  const askAuthority = accepted || (typeof enrollError?.details.reason === 'string' && enrollError.details.reason.startsWith('reenroll_')) || form.adminUserId !== '';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { adminUserId, adminPassword, maintenanceSecret, ...enrollment } = form;
    const authority =
      adminUserId || adminPassword ? { adminUserId: adminUserId.trim(), adminPassword } : maintenanceSecret ? { maintenanceSecret } : {};
    void stores.terminal
      .getState()
      .enroll({ ...enrollment, ...authority })
      .then((ok) => {
        // The credentials were for this one call: never kept on the screen.
        if (ok || askAuthority) setForm((f) => ({ ...f, adminPassword: '', maintenanceSecret: '' }));
      });
  };
  const field = (key: keyof typeof form, label: string, type = 'text', placeholder = '') => (
    <label className="field">
      <span className="field-label">{label}</span>
      <input
        className="input"
        type={type}
        value={form[key]}
        placeholder={placeholder}
        autoComplete="off"
        spellCheck={false}
        data-testid={`enroll-${key}`}
        onChange={(e) => setForm({ ...form, [key]: e.target.value })}
      />
    </label>
  );

  return (
    <div className="screen">
      <TopBar />
      <main className="center">
        <form className="panel enroll" onSubmit={submit} noValidate data-testid="enroll-screen">
          <h1>{t('enroll.title')}</h1>
          <p className="lead">{t('enroll.intro')}</p>
          {field('serverUrl', t('enroll.serverUrl'), 'url', 'http://server:8080')}
          {field('terminalId', t('enroll.terminalId'))}
          {field('token', t('enroll.token'), 'password')}
          {askAuthority && (
            <fieldset className="enroll-authority" data-testid="enroll-authority">
              <legend>{t('enroll.authority')}</legend>
              <p className="lead">{t('enroll.authorityHint')}</p>
              {field('adminUserId', t('enroll.adminUserId'))}
              {field('adminPassword', t('enroll.adminPassword'), 'password')}
              {field('maintenanceSecret', t('enroll.maintenanceSecret'), 'password')}
            </fieldset>
          )}
          <ErrorNotice error={enrollError} testId="enroll-error" />
          {terminalId && serverUrl && !enrollError && (
            <div className={lastError ? 'notice notice-error' : 'notice notice-info'} data-testid="enroll-status">
              <div className="notice-body">
                <p className={lastError ? 'notice-suggestion' : 'notice-message'}>{t('enroll.connecting', { url: serverUrl, id: terminalId })}</p>
                {lastError && (
                  <>
                    <p className="notice-message" data-testid="enroll-connection-error">
                      {t('enroll.refused', { reason: lastError })}
                    </p>
                    <p className="notice-suggestion">{t('enroll.retryHint')}</p>
                  </>
                )}
              </div>
            </div>
          )}
          <button type="submit" className="btn btn-primary btn-wide" disabled={enrolling} data-testid="enroll-submit">
            {t('enroll.submit')}
          </button>
        </form>
      </main>
    </div>
  );
}
