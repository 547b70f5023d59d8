#!/usr/bin/env node
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { checkConfigFromArgs, CONFIG_HELP } from './config-check.ts';
import { withDevelopmentToken } from './development-token.ts';
import { describeFatal } from './fatal-error.ts';
import { OptionError, parseServeOptions, SERVE_HELP } from './serve-options.ts';
import type { Output } from './serve.ts';
import { serve } from './serve.ts';
import { mintTokenFromArgs, TOKEN_HELP } from './token.ts';
import { runWorker } from './worker.ts';
import { superviseWorkers } from './workers.ts';

const HELP = `Usage: herald <command> [options]

Commands:
  serve      run the hub (herald serve --help for its options)
  token      print a signed token for development (herald token --help)
  config     check a configuration file: herald config check <file> (herald config --help)
  version    print the version

Exit status: 0 on success, 1 when something failed at run time, 2 for a usage or
configuration error (the message names the flag, variable or file key).`;

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
      const options = await withDevelopmentToken(parsed);
      await (options.workers > 1 ? superviseWorkers(options, output) : serve(options, output));
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

// A worker of `serve --workers N` runs this same file; its options come from the primary.
(cluster.isWorker ? runWorker() : main(process.argv.slice(2))).catch((error: unknown) => {
  const fatal = describeFatal(error);
  output.err(`herald: ${fatal.message}`);
  process.exit(fatal.exitCode);
});
