/**
 * Outputs that appear only complete: files are written into a temporary folder inside the
 * destination and renamed into place in a given order (the manifest last) on commit. A failed,
 * refused or interrupted run (SIGINT, SIGTERM) leaves nothing behind, not even a destination
 * folder it created itself; a folder left by a killed run (SIGKILL, power loss) is removed by
 * the next run into the same destination.
 */
import { mkdirSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const PREFIX = '.track-embeddings-';

/** The pid a temporary folder was made by, from its name `.track-embeddings-<pid>-XXXXXX`. */
export function ownerPid(name: string): number | null {
  const m = /^\.track-embeddings-(\d+)-[^/]+$/.exec(name);
  return m ? Number(m[1]) : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary folders in `dir` whose process is gone; returns their names. */
export async function removeStale(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => {
    const pid = ownerPid(n);
    return pid !== null && pid !== process.pid && !isAlive(pid);
  });
  await Promise.all(stale.map((n) => rm(join(dir, n), { recursive: true, force: true })));
  return stale;
}

// Folders of this process still open, removed synchronously if a signal ends it.
const open = new Set<Entry>();
let listening = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const f of open) cleanUpSync(f);
  open.clear();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // Die of the same signal, as the shell expects (exit status 128 + n).
  process.kill(process.pid, signal);
}

interface Entry {
  tmp: string;
  dir: string;
  /** The outermost folder this run created on the way to `dir`, or null. */
  created: string | null;
}

/** `dir` and its parents up to `created`, innermost first: the folders this run made. */
function madeFolders(e: Entry): string[] {
  if (!e.created) return [];
  const out: string[] = [];
  for (let d = e.dir; ; d = dirname(d)) {
    out.push(d);
    if (d === e.created || relative(e.created, d).startsWith('..') || dirname(d) === d) break;
  }
  return out;
}

function cleanUpSync(e: Entry): void {
  // A write already handed to libuv's thread pool can create a file after the listing: the
  // folder is then not empty when removed (ENOTEMPTY), and the retries catch it. Once the folder
  // is gone, no late write can recreate it.
  try {
    rmSync(e.tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 5 });
  } catch {
    return; // still there: leave the destination too, rather than die without a trace
  }
  for (const d of madeFolders(e)) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty: someone else wrote there meanwhile; leave it
    }
  }
}

/** Turns the clean-up on signals on or off (once for all open folders). */
function listen(on: boolean): void {
  if (on === listening) return;
  if (on) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  } else {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  listening = on;
}

export class OutputFolder {
  private settled = false;

  private constructor(
    /** The destination folder. */
    readonly dir: string,
    /** Where files are written until commit. */
    readonly tmp: string,
    private readonly entry: Entry,
  ) {}

  /** Creates the destination (if missing) and a temporary folder in it; clears stale ones first. */
  static async open(dir: string): Promise<OutputFolder> {
    const abs = resolve(dir);
    // The signal handlers first, then the folders, synchronously: a signal can arrive at any
    // moment, and a folder created before its handler (or in the thread pool while the handler
    // runs) would outlive the process.
    listen(true);
    let created: string | null;
    let tmp: string;
    try {
      created = mkdirSync(abs, { recursive: true }) ?? null;
      tmp = mkdtempSync(join(abs, `${PREFIX}${process.pid}-`));
    } catch (e: unknown) {
      if (open.size === 0) listen(false);
      throw e;
    }
    const entry: Entry = { tmp, dir: abs, created };
    open.add(entry);
    await removeStale(abs);
    return new OutputFolder(dir, tmp, entry);
  }

  /** Where to write `file` before commit. */
  path(file: string): string {
    return join(this.tmp, file);
  }

  /** Renames `files` into the destination in this order (put the commit marker last), then removes the temporary folder. */
  async commit(files: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const file of files) {
      await rename(this.path(file), join(this.dir, file));
      out.push(join(this.dir, file));
    }
    await this.finish(false);
    return out;
  }

  /** Removes the temporary folder, and the destination too if this run created it and left it empty. */
  async discard(): Promise<void> {
    await this.finish(true);
  }

  private async finish(removeCreated: boolean): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    open.delete(this.entry);
    if (open.size === 0) listen(false);
    await rm(this.tmp, { recursive: true, force: true });
    if (!removeCreated) return;
    for (const d of madeFolders(this.entry)) {
      if (
        !(await rmdir(d).then(
          () => true,
          () => false,
        ))
      )
        return;
    }
  }
}
