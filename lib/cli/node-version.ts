/**
 * The AWS SDK warns, in eight lines, that its releases after January 2027 need Node 22; the
 * Lambdas run Node 24 (.nvmrc). A command that loads the SDK on an older Node says so once, in
 * one line, and turns the SDK's own warning off.
 */
const SDK_NODE_MAJOR = 22;
const QUIET = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

let pending: string | undefined;

/**
 * Call before the SDK sends its first request: turns the SDK's warning off and keeps our one
 * line for `sdkNoteAfterRun`, so a usage error is not followed by a note about Node versions.
 */
export function quietSdkWarning(env: NodeJS.ProcessEnv = process.env, node = process.versions.node): void {
  const major = Number(node.split('.')[0]);
  if (major >= SDK_NODE_MAJOR || env[QUIET] === 'true') return;
  env[QUIET] = 'true'; // children inherit it: one line for the whole run
  pending = `note: Node ${node}: AWS SDK releases after January 2027 need Node ≥ ${SDK_NODE_MAJOR}; use Node 24 (see .nvmrc)`;
}

/** The note kept by `quietSdkWarning`, once, after a command ran (undefined after a usage error, or when there is none). */
export function sdkNoteAfterRun(usageError: boolean): string | undefined {
  const note = pending;
  pending = undefined;
  return usageError ? undefined : note;
}
