/** Worker threads of the server (the import's writer, the CSV parser): where their entries are. */

/**
 * Where a thread's compiled entry `file` (relative to the module `from`, its `import.meta.url`)
 * is: next to that module, or, when it runs from the TypeScript sources (the tests), under
 * out/node, which the tests' global setup builds from the same sources first (a thread cannot
 * load a .ts file).
 */
export function threadEntry(file: string, from: string): URL {
  if (!from.endsWith('.ts')) return new URL(file, from);
  const root = new URL('../', import.meta.url).pathname; // the repository: this file is in src-server/
  const source = new URL(file, from).pathname;
  return new URL(`file://${root}out/node/${source.slice(root.length)}`);
}
