import { StoreOpenError } from '../backends/store-open-error.ts';
import { CommandFailure } from './command-failure.ts';
import { ConfigError } from '../options/config-error.ts';

/** How a failure that stops Herald is told to the operator. */
export interface FatalError {
  /** One message for stderr, without the `herald: ` prefix. */
  readonly message: string;
  /** 2 for a configuration the operator must fix, 3 for a hub's refusal, 1 for anything else. */
  readonly exitCode: number;
}

/**
 * Turns what stopped start-up into a message: configuration and store errors name what to fix;
 * a port that cannot be bound says so; anything else is unexpected and keeps its stack.
 */
export function describeFatal(error: unknown): FatalError {
  if (error instanceof CommandFailure) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError || error instanceof StoreOpenError) {
    return { message: error.message, exitCode: 2 };
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return {
      message: `cannot listen: ${(error as Error).message}. Another process holds this port: choose another with --port (HERALD_PORT, or port: in the --config file), or stop that process.`,
      exitCode: 1,
    };
  }
  if (code === 'EACCES') {
    return {
      message: `cannot listen: ${(error as Error).message}. Ports below 1024 need privileges: choose a port from 1024 with --port (HERALD_PORT, or port: in the --config file).`,
      exitCode: 1,
    };
  }
  return {
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    exitCode: 1,
  };
}
