#!/usr/bin/env node
// First: on an unsupported Node.js, a plain message rather than a failure further in.
import './supported-node.ts';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { checkConfigFromArgs, CONFIG_HELP } from './config-check.ts';
import { withDevelopmentToken } from './development-token.ts';
import { describeFatal } from './fatal-error.ts';
import { PUBLISH_HELP, publishFromArgs } from './publish.ts';
import { SUBSCRIBE_HELP, subscribeFromArgs } from './subscribe.ts';
import { OptionError, parseServeOptions, SERVE_HELP } from './serve-options.ts';
import type { Output } from './serve.ts';
import { serve, withDevelopmentKey } from './serve.ts';
import { silenceSqliteExperimentalWarning } from './sqlite-warning.ts';
import { mintTokenFromArgs, TOKEN_HELP } from './token.ts';
import { runWorker } from './worker.ts';
import { superviseWorkers } from './workers.ts';

const HELP = `Usage: herald <command> [options]

Commands:
  serve      run the hub (herald serve --help for its options)
  publish    publish an update to a Mercure hub and print its id (herald publish --help)
  subscribe  print a hub's updates, one per line, resuming across drops (herald subscribe --help)
  token      print a signed token for development (herald token --help)
  config     check a configuration file: herald config check <file> (herald config --help)
  version    print the version

Exit status: 0 on success, 1 when something failed at run time (a port in use, no answer
from the hub), 2 for a usage or configuration error (the message names the flag, variable or
file key), 3 when a hub refused a publish or a subscription (its problem detail is shown).`;

const output: Output = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const parsed = parseServeOptions(rest, process.env);
      if (parsed === 'help') {
        output.out(SERVE_HELP);
        return;
      }
      const prepared = await withDevelopmentToken(withDevelopmentKey(parsed));
      await (prepared.workers > 1 ? superviseWorkers(prepared, output) : serve(prepared, output));
      return;
    }
    case 'publish': {
      const id = await publishFromArgs(rest, process.env, process.stdin);
      output.out(id === 'help' ? PUBLISH_HELP : id);
      return;
    }
    case 'subscribe': {
      const stop = new AbortController();
      const abort = (): void => {
        stop.abort();
      };
      process.once('SIGINT', abort);
      process.once('SIGTERM', abort);
      // A reader that went away (`| head -1`) ends the subscription as Ctrl-C does.
      process.stdout.on('error', abort);
      const result = await subscribeFromArgs(rest, process.env, {
        line: (text) => {
          output.out(text);
        },
        notice: (text) => {
          output.err(`herald: ${text}`);
        },
        stop: stop.signal,
      });
      if (result === 'help') output.out(SUBSCRIBE_HELP);
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
      return;
    }
    case 'token': {
      const token = await mintTokenFromArgs(rest, process.env);
      output.out(token === 'help' ? TOKEN_HELP : token);
      return;
    }
    case 'config': {
      const result = checkConfigFromArgs(rest);
      output.out(result === 'help' ? CONFIG_HELP : result);
      return;
    }
    case 'version':
    case '--version':
      if (rest.includes('--help') || rest.includes('-h')) {
        output.out('Usage: herald version\n\nPrints the version of Herald.');
        return;
      }
      output.out(version());
      return;
    case undefined:
      throw new OptionError(`Missing command.\n\n${HELP}`);
    case 'help':
    case '--help':
    case '-h':
      output.out(HELP);
      return;
    default:
      throw new OptionError(`Unknown command "${command}".\n\n${HELP}`);
  }
}

silenceSqliteExperimentalWarning();

// A worker of `serve --workers N` runs this same file; its options come from the primary.
(cluster.isWorker ? runWorker() : main(process.argv.slice(2))).catch((error: unknown) => {
  const fatal = describeFatal(error);
  output.err(`herald: ${fatal.message}`);
  process.exit(fatal.exitCode);
});
