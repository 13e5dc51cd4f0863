/**
 * The watcher: lists the model folders (`DATA/models/<sensorId>/`, not the hidden `.staging-*` / `.old-*`)
 * every `pollMs` and hands the list to the registry, which loads what is new or changed and unloads what
 * was removed. Model folders may be placed or replaced by hand while the server runs.
 */
import { readdir } from 'node:fs/promises';
import { isSensorId } from '@hark/protocol';

export class ModelWatcher {
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #again: Promise<void> | null = null;
  /** The last error of `before`, while it fails. */
  #beforeFailed: string | null = null;

  constructor(
    private readonly modelsDir: string,
    private readonly pollMs: number,
    /** Reconciles the registry with the sensor ids that have a model folder now. */
    private readonly sync: (sensorIds: string[]) => Promise<void>,
    private readonly log: (line: string) => void,
    /** Runs before each look (the registry installs the database's active versions then). */
    private readonly before: () => Promise<void> = async () => {},
  ) {}

  /** Polls once, then every `pollMs`. */
  async start(): Promise<void> {
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
    await this.sync(names);
  }
}
