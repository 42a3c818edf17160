/**
 * The AWS SDK warns, in eight lines, that its releases after January 2027 need Node 22; the
 * Lambdas run Node 24 (.nvmrc). A command that loads the SDK on an older Node says so once, in
 * one line, and turns the SDK's own warning off.
 */
const SDK_NODE_MAJOR = 22;
const QUIET = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** Call before the SDK sends its first request; prints at most one line per process tree. */
export function quietSdkWarning(env: NodeJS.ProcessEnv = process.env, stream: NodeJS.WritableStream = process.stderr): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= SDK_NODE_MAJOR || env[QUIET] === 'true') return;
  env[QUIET] = 'true'; // children inherit it: one line for the whole run
  stream.write(
    `note: Node ${process.versions.node}: AWS SDK releases after January 2027 need Node ≥ ${SDK_NODE_MAJOR}; use Node 24 (see .nvmrc)\n`,
  );
}
