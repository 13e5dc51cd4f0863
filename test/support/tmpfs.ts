/**
 * A small disk for the full-disk tests: a tmpfs of a given size mounted on a temp directory, a data directory
 * on it, and a filler file that takes its last byte. Mounting needs root: without it `mounted` is false and the
 * reason is printed, so the test file skips visibly.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './server.js';

export interface SmallDisk {
  mountPoint: string;
  /** Whether the tmpfs is mounted (false: not root, or no tmpfs: the tests skip). */
  mounted: boolean;
  /** `MOUNT/data`, for the server's data directory. */
  dataDir: string;
  /** Writes the filler file until the disk refuses a single byte more. */
  fill(): void;
  /** Removes the filler file. */
  free(): void;
  unmount(): void;
}

/** Mounts a `size` tmpfs (`8m`) for the tests `what` names in the skip message. */
export function smallDisk(name: string, size: string, what: string): SmallDisk {
  const mountPoint = tempDir(name);
  const filler = join(mountPoint, 'filler');
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    console.warn(
      `SKIPPED ${what}: cannot mount a ${size} tmpfs at ${mountPoint} ` +
        `(${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}); run as root`,
    );
  }
  return {
    mountPoint,
    mounted,
    dataDir: join(mountPoint, 'data'),
    fill() {
      const fd = openSync(filler, 'w');
      try {
        for (const block of [1 << 20, 65536, 4096, 512, 1].map((n) => Buffer.alloc(n, 1))) {
          try {
            for (;;) writeSync(fd, block);
          } catch (err) {
            if ((err as { code?: string }).code !== 'ENOSPC') throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      unlinkSync(filler);
    },
    unmount() {
      if (mounted) execFileSync('umount', ['-l', mountPoint]);
    },
  };
}
