/** React access to the overview's stores: one context, one hook per store taking a narrow selector. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { SupervisorApp } from './app.js';
import type { AssignState } from './assign.js';
import type { AuditState } from './audit.js';
import type { AutoAssignState } from './autoassign.js';
import type { BoardState } from './board.js';
import type { DetailState } from './detail.js';
import type { ImportState } from './importer.js';
import type { SessionState } from './session.js';
import type { TableState } from './table.js';
import type { ToastsState } from '../../stores/toasts.js';
import type { UiState } from './ui.js';
import type { ViewState } from './view.js';

export const AppContext = createContext<SupervisorApp | null>(null);

export function useApp(): SupervisorApp {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside <AppContext.Provider>');
  return app;
}

export const useSession = <T,>(sel: (s: SessionState) => T): T => useStore(useApp().session, sel);
export const useBoard = <T,>(sel: (s: BoardState) => T): T => useStore(useApp().board, sel);
export const useView = <T,>(sel: (s: ViewState) => T): T => useStore(useApp().view, sel);
export const useTable = <T,>(sel: (s: TableState) => T): T => useStore(useApp().table, sel);
export const useUi = <T,>(sel: (s: UiState) => T): T => useStore(useApp().ui, sel);
export const useToasts = <T,>(sel: (s: ToastsState) => T): T => useStore(useApp().toasts, sel);
export const useAssign = <T,>(sel: (s: AssignState) => T): T => useStore(useApp().assign, sel);
export const useDetail = <T,>(sel: (s: DetailState) => T): T => useStore(useApp().detail, sel);
export const useAutoAssign = <T,>(sel: (s: AutoAssignState) => T): T => useStore(useApp().autoAssign, sel);
export const useImport = <T,>(sel: (s: ImportState) => T): T => useStore(useApp().importer, sel);
export const useAudit = <T,>(sel: (s: AuditState) => T): T => useStore(useApp().audit, sel);
