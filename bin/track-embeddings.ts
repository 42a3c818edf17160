#!/usr/bin/env -S node --single-threaded-gc --enable-source-maps
/** The `track-embeddings` command: see `track-embeddings --help` and README.md. */
import { readFileSync } from 'node:fs';
import { runProgram } from '../lib/cli/program.ts';
import { drained, quietOnClosedPipe } from '../lib/cli/stdout.ts';
import { COMMANDS } from './commands/index.ts';

// One folder below the package root, from the sources (bin/) and from the bundle (dist/) alike.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

quietOnClosedPipe(process.stdout);
const code = await runProgram(COMMANDS, process.argv.slice(2), version);
// The answer reaches a slow reader whole before the process ends; then exit() rather than
// exitCode: an SDK socket or a timer left by a failure must not keep the command alive.
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
