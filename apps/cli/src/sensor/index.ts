/**
 * The hark sensor client as a library: `SensorClient` streams a `PcmSource` to the server's `/sensor`
 * namespace; sources play WAV files, read stdin or a pipe, capture through arecord, or take pushed chunks.
 * `hark sensor` is a thin command over it; tests and benchmarks run many clients in one process.
 */
export { SensorClient } from './client.js';
export {
  backoffDelay,
  SensorError,
  type AckInfo,
  type BackoffOptions,
  type ConnectionState,
  type DropInfo,
  type FailoverInfo,
  type SensorClientOptions,
  type SensorErrorKind,
  type SensorEvents,
  type SensorStats,
  type SensorSummary,
} from './client-api.js';
export { Backlog, type BacklogEntry, type Dropped } from './backlog.js';
export { encodePcm, FrameChunker, LevelMeter, type Level } from './pcm.js';
export * from './sources/index.js';
export {
  describeState,
  failoverLine,
  showStatus,
  statusLine,
  summaryLine,
  type StatusDisplay,
  type StatusOptions,
} from './status.js';
export { parseServers, shuffled } from './servers.js';
export * from './types.js';
