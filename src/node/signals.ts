/** How the Node entries (the REST API, the proxy) end on a signal. */

/**
 * SIGTERM (a process manager, `docker stop`) and SIGINT (Ctrl-C) close `target` and exit 0; if the close takes
 * longer than `graceMs`, or a second signal comes, exit 1 at once. Used by both servers' entries.
 */
export function exitOnSignals(target: { close(): Promise<void> }, log: (line: string) => void, graceMs = 10_000): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`${signal}: stopping; answers in flight end here`);
    setTimeout(() => process.exit(1), graceMs).unref();
    target.close().then(() => process.exit(0), (err: unknown) => {
      log(`close failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
