/**
 * electron-vite build of the desktop app: the main process (out/main/index.js, ESM; native and
 * Node packages stay external and load from node_modules at run time), the sandboxed preload
 * (out/preload/index.cjs: sandboxed preloads must be CommonJS, and everything they import is
 * bundled in), and the React renderer (out/renderer): the kiosk screen (index.html, also served by
 * the browser-hosted terminal) and the supervisors' overview (supervisor.html, served by the sync
 * server at /supervisor/).
 * Building needs only node_modules/electron/package.json (for the target versions), not the
 * Electron binary.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      // better-sqlite3, ws, pino, zod...: every runtime dependency loads from node_modules.
      externalizeDeps: true,
      sourcemap: true,
      rolldownOptions: {
        input: { index: resolve(root, 'src-main/electron/main.ts') },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, 'src-main/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      sourcemap: true,
      minify: true,
      rolldownOptions: {
        // The kiosk screen, and the supervisors' overview the sync server serves at /supervisor/.
        input: { index: resolve(root, 'src-renderer/index.html'), supervisor: resolve(root, 'src-renderer/supervisor.html') },
      },
    },
  },
});
