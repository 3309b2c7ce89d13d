/**
 * React access to the stores: a context holding the AppStores, and one hook per store that takes
 * a selector (narrow selectors; `useShallow` where a selector builds an object).
 */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { AppStores } from './app.js';
import type { ConflictsState } from './conflicts.js';
import type { IdleState } from './idle.js';
import type { NotificationsState } from './notifications.js';
import type { ScanState } from './scan.js';
import type { ToastsState } from './toasts.js';
import type { SessionState } from './session.js';
import type { TasksState } from './tasks.js';
import type { TerminalState } from './terminal.js';

export const StoresContext = createContext<AppStores | null>(null);

export function useStores(): AppStores {
  const stores = useContext(StoresContext);
  if (!stores) throw new Error('useStores outside <StoresContext.Provider>');
  return stores;
}

export const useTerminal = <T,>(selector: (s: TerminalState) => T): T => useStore(useStores().terminal, selector);
export const useSession = <T,>(selector: (s: SessionState) => T): T => useStore(useStores().session, selector);
export const useTasks = <T,>(selector: (s: TasksState) => T): T => useStore(useStores().tasks, selector);
export const useConflicts = <T,>(selector: (s: ConflictsState) => T): T => useStore(useStores().conflicts, selector);
export const useIdle = <T,>(selector: (s: IdleState) => T): T => useStore(useStores().idle, selector);
export const useNotifications = <T,>(selector: (s: NotificationsState) => T): T => useStore(useStores().notifications, selector);
export const useScan = <T,>(selector: (s: ScanState) => T): T => useStore(useStores().scan, selector);
export const useToasts = <T,>(selector: (s: ToastsState) => T): T => useStore(useStores().toasts, selector);
