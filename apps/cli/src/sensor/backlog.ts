/**
 * The chunks a sensor holds until the server acknowledges them, in capture order. Each entry is queued (not
 * sent on this connection), in flight, or acknowledged. Sequence numbers are given when a chunk is first sent,
 * so a new stream (after audio was dropped) renumbers from 0 and a chunk too large for the server is split
 * before it gets one. Beyond `maxFrames` of held audio the oldest chunks are dropped.
 */
import type { PcmChunk } from './types.js';

export interface BacklogEntry {
  data: Uint8Array;
  /** Capture time of the first sample, ms epoch. */
  t: number;
  frames: number;
  seq: number | null;
  state: 'queued' | 'inflight' | 'acked' | 'dropped';
  /** Times sent (more than 1 after a reconnect). */
  sends: number;
}

export interface Dropped {
  chunks: number;
  frames: number;
}

export class Backlog {
  private items: BacklogEntry[] = [];
  private head = 0;
  /** Entries before `cursor` are in flight or acknowledged. */
  private cursor = 0;
  /** Frames held (not acknowledged). */
  frames = 0;
  queued = 0;
  inFlight = 0;
  /** Sequence number of the next chunk sent for the first time. */
  nextSeq = 0;

  constructor(
    readonly bytesPerFrame: number,
    readonly sampleRate: number,
    readonly maxFrames: number,
  ) {}

  /** Chunks held (queued or in flight). */
  get length(): number {
    return this.queued + this.inFlight;
  }

  get seconds(): number {
    return this.frames / this.sampleRate;
  }

  /** Appends a chunk; returns what was dropped (oldest first) to stay within `maxFrames`, or null. */
  push(chunk: PcmChunk): Dropped | null {
    const frames = chunk.data.byteLength / this.bytesPerFrame;
    this.items.push({ data: chunk.data, t: chunk.t, frames, seq: null, state: 'queued', sends: 0 });
    this.frames += frames;
    this.queued++;
    let dropped: Dropped | null = null;
    while (this.frames > this.maxFrames && this.length > 1) {
      const e = this.items[this.head++];
      if (e.state === 'acked') continue;
      if (e.state === 'inflight') this.inFlight--;
      else this.queued--;
      e.state = 'dropped';
      this.frames -= e.frames;
      dropped ??= { chunks: 0, frames: 0 };
      dropped.chunks++;
      dropped.frames += e.frames;
    }
    if (this.cursor < this.head) this.cursor = this.head;
    this.compact();
    return dropped;
  }

  /**
   * The next queued chunk, now marked in flight with its sequence number; a chunk that has no number yet and
   * is larger than `maxBytes` is first split into whole-frame pieces.
   */
  takeNext(maxBytes = Infinity): BacklogEntry | undefined {
    while (this.cursor < this.items.length && this.items[this.cursor].state !== 'queued') this.cursor++;
    if (this.cursor >= this.items.length) return undefined;
    let e = this.items[this.cursor];
    if (e.seq === null && e.data.byteLength > maxBytes) e = this.split(this.cursor, maxBytes);
    e.seq ??= this.nextSeq++;
    e.state = 'inflight';
    e.sends++;
    this.queued--;
    this.inFlight++;
    this.cursor++;
    return e;
  }

  /** Marks an in-flight chunk acknowledged; false when it was not in flight (a late ack). */
  ack(e: BacklogEntry): boolean {
    if (e.state !== 'inflight') return false;
    e.state = 'acked';
    this.inFlight--;
    this.frames -= e.frames;
    this.compact();
    return true;
  }

  /** After a disconnect: every chunk in flight is queued again (it keeps its sequence number). */
  requeue(): void {
    for (let i = this.head; i < this.cursor; i++) {
      const e = this.items[i];
      if (e.state === 'inflight') {
        e.state = 'queued';
        this.inFlight--;
        this.queued++;
      }
    }
    this.cursor = this.head;
  }

  /**
   * After a hello: the server expects `serverNext`. Chunks numbered below it are already there and leave the
   * backlog; the numbered ones left are renumbered from `serverNext` if the server's count differs from ours
   * (a server that lost state), so the stream stays contiguous from its point of view.
   */
  resume(serverNext: number): { skipped: Dropped; renumbered: boolean } {
    this.requeue();
    const skipped: Dropped = { chunks: 0, frames: 0 };
    while (this.head < this.items.length) {
      const e = this.items[this.head];
      if (e.state !== 'acked') {
        if (e.seq === null || e.seq >= serverNext) break;
        e.state = 'acked';
        this.queued--;
        this.frames -= e.frames;
        skipped.chunks++;
        skipped.frames += e.frames;
      }
      this.head++;
    }
    this.cursor = this.head;
    let s = serverNext;
    let renumbered = false;
    for (let i = this.head; i < this.items.length && this.items[i].seq !== null; i++) {
      const e = this.items[i];
      if (e.state === 'acked') continue;
      if (e.seq !== s) renumbered = true;
      e.seq = s++;
    }
    if (s !== this.nextSeq) renumbered = true;
    this.nextSeq = s;
    this.compact();
    return { skipped, renumbered };
  }

  /**
   * The sequence number the oldest held chunk has (or the next one sent will get): where a server that holds
   * none of the stream (a hello answered `nextSeq: 0`) takes it up without renumbering.
   */
  firstHeldSeq(): number {
    return this.firstHeld()?.seq ?? this.nextSeq;
  }

  /** The oldest chunk not acknowledged, if any. */
  firstHeld(): BacklogEntry | undefined {
    for (let i = this.head; i < this.items.length; i++)
      if (this.items[i].state !== 'acked') return this.items[i];
    return undefined;
  }

  /** For a new stream: every chunk held is queued again without a number, and numbering restarts at 0. */
  restartSequence(): void {
    this.requeue();
    for (let i = this.head; i < this.items.length; i++) this.items[i].seq = null;
    this.nextSeq = 0;
  }

  private split(index: number, maxBytes: number): BacklogEntry {
    const e = this.items[index];
    const pieceFrames = Math.max(1, Math.floor(maxBytes / this.bytesPerFrame));
    const pieces: BacklogEntry[] = [];
    for (let f = 0; f < e.frames; f += pieceFrames) {
      const n = Math.min(pieceFrames, e.frames - f);
      pieces.push({
        data: e.data.subarray(f * this.bytesPerFrame, (f + n) * this.bytesPerFrame),
        t: e.t + (f / this.sampleRate) * 1000,
        frames: n,
        seq: null,
        state: 'queued',
        sends: 0,
      });
    }
    this.items.splice(index, 1, ...pieces);
    this.queued += pieces.length - 1;
    return pieces[0];
  }

  /** Forgets acknowledged entries at the front, and the array prefix once it is long. */
  private compact() {
    while (this.head < this.items.length && this.items[this.head].state === 'acked') this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.cursor -= this.head;
      this.head = 0;
    }
  }
}
