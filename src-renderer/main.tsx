/**
 * The screen's entry point: one TerminalClient (Electron preload or the browser host's bridge),
 * the stores around it, i18n, and the window-level listeners (activity for the idle countdown,
 * keeping a badge scan in the badge field).
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { createTerminalClient } from './api/client.js';
import { keepBadgeFocus } from './badge/focus.js';
import { App } from './components/App.js';
import { createI18n } from './i18n/index.js';
import { createAppStores } from './stores/app.js';
import { StoresContext } from './stores/hooks.js';
import './fonts.css';
import './styles.css';

const i18n = createI18n('en');
const client = createTerminalClient(window);
const stores = createAppStores(client, {
  onLocale(locale) {
    void i18n.changeLanguage(locale);
    document.documentElement.lang = locale === 'zh' ? 'zh-CN' : 'en';
  },
});

const activity = () => stores.idle.getState().activity();
window.addEventListener('pointerdown', activity, { capture: true, passive: true });
window.addEventListener('keydown', activity, { capture: true, passive: true });
keepBadgeFocus(window);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <I18nextProvider i18n={i18n}>
      <StoresContext.Provider value={stores}>
        <App />
      </StoresContext.Provider>
    </I18nextProvider>
  </StrictMode>,
);
