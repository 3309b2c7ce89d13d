/** The keyboard shortcuts ("?" opens this). */
import { useTranslation } from 'react-i18next';
import { SHORTCUTS } from '../shortcuts.js';
import { useApp } from '../stores/hooks.js';
import { Dialog } from './Dialog.js';

export function ShortcutsDialog() {
  const { t } = useTranslation();
  const app = useApp();
  return (
    <Dialog id="sv-shortcuts" title={t('sv.shortcuts.title')} onClose={() => app.ui.getState().close()} closeLabel={t('sv.close')}>
      <table className="sv-table sv-compact">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.keys}>
              <th scope="row">
                <kbd>{s.keys}</kbd>
              </th>
              <td>{t(s.label)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}
