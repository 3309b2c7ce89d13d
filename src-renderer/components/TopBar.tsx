/** The bar above every screen: the terminal's name (or who is signed in), its link to the server, the language, and a screen's own actions. */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useTerminal } from '../stores/hooks.js';
import { LocaleSwitch } from './LocaleSwitch.js';
import { SyncIndicator } from './SyncIndicator.js';

export function TopBar({ children, actions }: { children?: ReactNode; actions?: ReactNode }) {
  const { t } = useTranslation();
  const name = useTerminal((s) => s.identity?.name ?? s.identity?.terminalId ?? null);
  return (
    <header className="topbar">
      <div className="topbar-left">
        {children ?? (
          <span className="terminal-name" data-testid="terminal-name">
            {name ? t('badge.terminal', { name }) : t('app.title')}
          </span>
        )}
      </div>
      <div className="topbar-right">
        <SyncIndicator />
        <LocaleSwitch />
        {actions}
      </div>
    </header>
  );
}
