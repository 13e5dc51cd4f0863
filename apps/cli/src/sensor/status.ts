/**
 * What `hark sensor` shows. On a terminal: one status line, redrawn about four times a second (connection
 * state, level, clipping, chunks, seconds streamed). Otherwise: one line per state change, drop or warning,
 * as text or (`json`) as JSON lines `{"event", "time", ...}`. With several servers, every failover is logged
 * (from, to, why, backlog) and the connected line names the server.
 */
import type { ConnectionState, FailoverInfo, SensorStats, SensorSummary } from './client-api.js';
import type { SensorClient } from './client.js';

const db = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-inf');

/** `connected`, `reconnecting in 4s (attempt 3: transport close)`, ... */
export function describeState(s: ConnectionState, now = Date.now()): string {
  switch (s.state) {
    case 'connecting':
      return s.attempt > 1 ? `connecting (attempt ${s.attempt})` : 'connecting';
    case 'connected':
      return 'connected';
    case 'reconnecting':
      return `reconnecting in ${Math.max(0, Math.ceil((s.retryAt - now) / 1000))}s (${s.reason})`;
    default:
      return s.state;
  }
}

/** The terminal status line. */
export function statusLine(st: SensorStats, now = Date.now()): string {
  const parts = [describeState(st.state, now)];
  if (st.backlogSeconds >= 0.05 && st.state.state !== 'connected')
    parts.push(`backlog ${st.backlogSeconds.toFixed(1)} s`);
  const l = st.level;
  parts.push(l ? `level ${db(l.rmsDbfs)} dBFS rms, ${db(l.peakDbfs)} peak` : 'level -');
  if (l && l.clipping > 0) parts.push(`CLIPPING ${(l.clipping * 100).toFixed(1)}%`);
  parts.push(`chunks ${st.chunksSent} sent / ${st.chunksAcked} acked`);
  parts.push(`${st.secondsAcked.toFixed(1)} s streamed`);
  if (st.dropped.chunks > 0) parts.push(`dropped ${st.dropped.seconds.toFixed(1)} s`);
  return parts.join(' | ');
}

export function summaryLine(s: SensorSummary): string {
  const parts = [
    `streamed ${s.secondsAcked.toFixed(2)} s in ${s.chunksAcked} chunks`,
    `${s.chunksSent} sent (${s.chunksResent} resent)`,
    `${s.reconnects} reconnect${s.reconnects === 1 ? '' : 's'}`,
    `dropped ${s.dropped.chunks} chunks (${s.dropped.seconds.toFixed(2)} s)`,
  ];
  if (s.backlogChunks > 0) parts.push(`${s.backlogChunks} chunks not acknowledged`);
  return `${s.stopped ? 'stopped' : 'done'}: ${parts.join(', ')}`;
}

/** `failover from http://a:8080 to http://b:8080 (transport close): backlog 12 chunks (0.24 s)` */
export function failoverLine(f: FailoverInfo): string {
  const wait = f.delayMs > 0 ? `, next try in ${(f.delayMs / 1000).toFixed(1)} s` : '';
  return (
    `failover from ${f.from} to ${f.to} (${f.reason}): backlog ${f.backlogChunks} chunks ` +
    `(${f.backlogSeconds.toFixed(2)} s${f.resendFromSeq !== null ? ` from seq ${f.resendFromSeq}` : ''})${wait}`
  );
}

export interface StatusOptions {
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Draw the refreshed line (default: when `out` is a terminal). */
  tty?: boolean;
  json?: boolean;
  refreshMs?: number;
}

export interface StatusDisplay {
  /** Stops refreshing and prints the summary (if any). */
  close(summary?: SensorSummary): void;
  /** A message on its own line (warnings, errors). */
  log(message: string, event?: string): void;
}

/** Shows `client`'s progress on `out` (stdout by default) until `close()`. */
export function showStatus(client: SensorClient, o: StatusOptions = {}): StatusDisplay {
  const out = o.out ?? process.stdout;
  const json = o.json ?? false;
  const tty = !json && (o.tty ?? out.isTTY === true);
  let drawn = false;
  const clearLine = () => {
    if (drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = () => {
    out.write(`\r\x1b[2K${statusLine(client.stats())}`);
    drawn = true;
  };
  const emitLine = (event: string, text: string, fields: Record<string, unknown> = {}) => {
    if (json) out.write(`${JSON.stringify({ event, time: Date.now(), ...fields })}\n`);
    else {
      clearLine();
      out.write(`${new Date().toISOString()} ${text}\n`);
      if (tty) draw();
    }
  };

  let last = '';
  const onState = (s: ConnectionState) => {
    if (tty) return draw();
    const key = s.state === 'connecting' ? `connecting` : s.state;
    if (key === last) return;
    last = key;
    if (s.state === 'connected') {
      const to = client.servers.length > 1 ? ` to ${s.server}` : '';
      emitLine('state', `connected${to} (stream ${s.streamId}, next seq ${s.nextSeq})`, { ...s });
    } else emitLine('state', describeState(s), { ...s });
  };
  const onFailover = (f: FailoverInfo) => emitLine('failover', failoverLine(f), { ...f });
  const onDropped: Parameters<typeof client.on<'dropped'>>[1] = (d) =>
    emitLine(
      'dropped',
      `buffer full: dropped the oldest ${d.seconds.toFixed(2)} s (${d.chunks} chunks; ${d.totalSeconds.toFixed(2)} s in all), continuing as stream ${d.streamId}`,
      { ...d },
    );
  const onWarning = (message: string) => emitLine('warning', `warning: ${message}`, { message });
  client.on('state', onState);
  client.on('dropped', onDropped);
  client.on('warning', onWarning);
  client.on('failover', onFailover);
  const timer = tty ? setInterval(draw, o.refreshMs ?? 250) : null;
  timer?.unref();

  return {
    log: (message, event = 'message') => emitLine(event, message, { message }),
    close(summary) {
      if (timer) clearInterval(timer);
      client.off('state', onState);
      client.off('dropped', onDropped);
      client.off('warning', onWarning);
      client.off('failover', onFailover);
      if (tty) {
        clearLine();
      }
      if (!summary) return;
      if (json) out.write(`${JSON.stringify({ event: 'summary', time: Date.now(), ...summary })}\n`);
      else out.write(`${summaryLine(summary)}\n`);
    },
  };
}
