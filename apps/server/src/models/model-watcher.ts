/**
 * The watcher: lists the model folders (`DATA/models/<sensorId>/`, not the hidden `.staging-*` / `.old-*`)
 * every `pollMs` and hands the list to the registry, which loads what is new or changed and unloads what
 * was removed. Model folders may be placed or replaced by hand while the server runs.
 *
 * Which folders to read again. The registry tells a changed folder by its signature (every file's name, size
 * and time: `modelSignature`), one `stat` per file. Read for every model at every poll, that was about 580
 * file-system calls every 2 s at 64 sensors, 0.6-0.8 ms of the event loop per scored window in the stage
 * profile. So the watcher also asks the kernel (`fs.watch`: inotify on Linux) to report changes in the models
 * folder (a folder placed, renamed or swapped in) and in each model folder (a file written, replaced or
 * removed), and `mayHaveChanged` names only the folders reported since their last read. A report is cleared
 * before the folder is read, so a change during the read is reported again. What the kernel may not report
 * (another host writing to a network file system; a watch refused when the system's inotify watches run out)
 * is still seen: a folder without a watch is read at every poll, and every folder is read whole at least
 * every `FULL_LOOK_MS`.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isSensorId } from '@hark/protocol';

/** Every model folder is read whole at least this often, reported changed or not (ms). */
export const FULL_LOOK_MS = 60_000;

export class ModelWatcher {
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #again: Promise<void> | null = null;
  /** The last error of `before`, while it fails. */
  #beforeFailed: string | null = null;
  /** The kernel's reports on the models folder itself (null: none, so every folder is read at every poll). */
  #top: FSWatcher | null = null;
  /** Per model folder, the kernel's reports on its files. */
  #folders = new Map<string, FSWatcher>();
  /**
   * Folders reported changed (or newly watched) since they were last read: by the registry's look
   * (`mayHaveChanged`) and by the database pull before it (`pullMayHaveChanged`), each its own set.
   */
  #changed = new Set<string>();
  #pullChanged = new Set<string>();
  /** When every folder was last read whole (`Date.now()`), and whether this poll reads them whole. */
  #lastFull = -Infinity;
  #fullLook = true;
  /** A watch the system refused, said once. */
  #watchRefused: string | null = null;

  constructor(
    private readonly modelsDir: string,
    private readonly pollMs: number,
    /** Reconciles the registry with the sensor ids that have a model folder now. */
    private readonly sync: (sensorIds: string[]) => Promise<void>,
    private readonly log: (line: string) => void,
    /** Runs before each look (the registry installs the database's active versions then). */
    private readonly before: () => Promise<void> = async () => {},
    /** Every folder is read whole at least this often (ms). */
    private readonly fullLookMs: number = FULL_LOOK_MS,
  ) {}

  /** Polls once, then every `pollMs`. */
  async start(): Promise<void> {
    this.#top = this.#watch(this.modelsDir, (name) => {
      // A folder placed, renamed, swapped in or removed: read it, under a new watch (the old one followed
      // the folder that was there before).
      if (name === null) this.#lastFull = -Infinity;
      else if (isSensorId(name) && !name.startsWith('.')) {
        this.#report(name);
        this.#unwatch(name);
      }
    });
    await this.poll();
    this.#timer = setInterval(() => void this.poll(), this.pollMs);
    this.#timer.unref();
  }

  /** Stops polling and waits for the polls under way. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#polling;
    await this.#again;
    this.#top?.close();
    this.#top = null;
    for (const id of [...this.#folders.keys()]) this.#unwatch(id);
  }

  /**
   * Whether the registry must read model folder `id` again (its signature): it was reported changed since its
   * last read, has no watch, or this poll reads every folder. Clears the report, so call it just before the
   * read.
   */
  mayHaveChanged(id: string): boolean {
    const reported = this.#changed.delete(id);
    return reported || this.#fullLook || !this.#top || !this.#folders.has(id);
  }

  /** `mayHaveChanged` for the database pull (`before`), which keeps its own reports. */
  pullMayHaveChanged(id: string): boolean {
    const reported = this.#pullChanged.delete(id);
    return reported || this.#fullLook || !this.#top || !this.#folders.has(id);
  }

  #report(id: string): void {
    this.#changed.add(id);
    this.#pullChanged.add(id);
  }

  /** Number of model folders under a kernel watch (0 when the system gives none). */
  get watched(): number {
    return this.#top ? this.#folders.size : 0;
  }

  /**
   * Watches `path`, calling `changed` with the name reported (null when the system gave none); the watch
   * ends itself on an error (the folder removed, say), as if everything in it had changed. Null when the
   * system refuses the watch.
   */
  #watch(path: string, changed: (name: string | null) => void): FSWatcher | null {
    try {
      const w = watch(path, { persistent: false }, (_event, name) =>
        changed(name === null ? null : `${name}`),
      );
      w.on('error', (err: Error) => {
        w.close();
        if (this.#top === w) {
          this.#top = null;
          this.log(
            `models: the system stopped reporting changes in ${path} (${err.message}); every model folder is read at every poll`,
          );
        }
        for (const [id, fw] of this.#folders) if (fw === w) this.#unwatch(id);
        changed(null);
      });
      this.#watchRefused = null;
      return w;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.#watchRefused)
        this.log(
          `models: changes in ${path} are not reported by the system (${message}); it is read at every poll`,
        );
      this.#watchRefused = message;
      return null;
    }
  }

  #unwatch(id: string): void {
    this.#folders.get(id)?.close();
    this.#folders.delete(id);
  }

  /** A watch on each model folder listed (each new one counts as a change: it was not watched when read). */
  #watchFolders(ids: string[]): void {
    if (!this.#top) return;
    const listed = new Set(ids);
    for (const id of [...this.#folders.keys()]) if (!listed.has(id)) this.#unwatch(id);
    for (const id of ids) {
      if (this.#folders.has(id)) continue;
      const w = this.#watch(join(this.modelsDir, id), () => this.#report(id));
      if (!w) continue;
      this.#folders.set(id, w);
      this.#report(id);
    }
  }

  /**
   * Checks the folder now. Asked while a poll is under way, one more poll follows it (shared by everyone who
   * asks meanwhile): what made them ask (a notice of another instance's change, a sensor taken over) may have
   * come after that poll's look.
   */
  poll(): Promise<void> {
    if (this.#polling) {
      this.#again ??= this.#polling.then(() => {
        this.#again = null;
        return this.poll();
      });
      return this.#again;
    }
    this.#polling = this.#poll().finally(() => (this.#polling = null));
    return this.#polling;
  }

  async #poll(): Promise<void> {
    const now = Date.now();
    this.#fullLook = now - this.#lastFull >= this.fullLookMs;
    if (this.#fullLook) this.#lastFull = now;
    try {
      await this.before();
      if (this.#beforeFailed) this.log('models: the model versions in the database can be read again');
      this.#beforeFailed = null;
    } catch (err) {
      // The database away: the models here keep scoring; the next poll tries again (said once, not per poll).
      const message = (err as Error).message;
      if (message !== this.#beforeFailed)
        this.log(`models: cannot read the model versions in the database: ${message}`);
      this.#beforeFailed = message;
    }
    let names: string[];
    try {
      names = (await readdir(this.modelsDir, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && !e.name.startsWith('.') && isSensorId(e.name))
        .map((e) => e.name);
    } catch (err) {
      this.log(`models: cannot read ${this.modelsDir}: ${(err as Error).message}`);
      return;
    }
    this.#watchFolders(names);
    await this.sync(names);
  }
}
