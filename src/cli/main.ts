#!/usr/bin/env node
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
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
  version    print the version`;

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
      const options = parseServeOptions(rest, process.env);
      if (options === 'help') {
        output.out(SERVE_HELP);
        return;
      }
      await (options.workers > 1 ? superviseWorkers(options, output) : serve(options, output));
      return;
    }
    case 'token': {
      const token = await mintTokenFromArgs(rest, process.env);
      output.out(token === 'help' ? TOKEN_HELP : token);
      return;
    }
    case 'version':
    case '--version':
      output.out(version());
      return;
    case undefined:
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
