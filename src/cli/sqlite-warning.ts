/**
 * Node 22 marks `node:sqlite` experimental and prints an ExperimentalWarning the first time it is
 * loaded (Node 24 and 26 do not). The SQLite store is Herald's default, tested on every supported
 * Node line, so that line is noise in an operator's terminal. This drops exactly that warning and
 * hands every other one to the listeners Node installed (its printer, `--disable-warning`,
 * `--no-warnings`, `--redirect-warnings` keep working). For the CLI only: a program embedding
 * Herald keeps its own warning policy.
 */
export function silenceSqliteExperimentalWarning(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (isSqliteExperimentalWarning(warning)) return;
    for (const printer of printers) printer.call(process, warning);
  });
}

export function isSqliteExperimentalWarning(warning: Error): boolean {
  return (
    warning.name === 'ExperimentalWarning' && /^SQLite is an experimental/.test(warning.message)
  );
}
