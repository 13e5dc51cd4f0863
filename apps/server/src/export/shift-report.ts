/**
 * The printable shift report (pure): the alerts of a period grouped by machine (sensor), each with its
 * picture, state, acknowledgements and annotations, as one self-contained HTML page (pictures inline, no
 * script) that prints well: A4, a machine per block, no split alerts.
 */
import type { Alert } from '@hark/protocol';
import { severityOf } from '../notify/rules.js';
import type { SensorInfo } from './csv.js';

export interface ShiftReportInput {
  from: number;
  to: number;
  /** IANA zone the times are written in. */
  timeZone: string;
  alerts: readonly Alert[];
  sensors: (id: string) => SensorInfo | undefined;
  /** PNG of an alert's spectrogram with its anomaly map, when kept. */
  pictures: ReadonlyMap<number, Buffer>;
  /** Who asked for it, and when. */
  by: string;
  at: number;
  /** Alerts of the period left out (over the report's limit). */
  omitted: number;
}

const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A time as `2026-12-04 06:30` in the zone. */
export function formatIn(t: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

const STYLE = `
  body { font: 11pt/1.4 system-ui, sans-serif; color: #111; margin: 1.5rem; }
  h1 { font-size: 16pt; margin: 0 0 .2rem; }
  h2 { font-size: 13pt; margin: 1.2rem 0 .4rem; border-bottom: 1px solid #999; }
  .muted { color: #555; }
  .alert { display: grid; grid-template-columns: 16rem 1fr; gap: .8rem; margin: .6rem 0;
           padding: .5rem; border: 1px solid #ccc; border-radius: 4px; break-inside: avoid; }
  .alert img { width: 16rem; border: 1px solid #ccc; }
  .critical { border-left: 5px solid #c00; } .warning { border-left: 5px solid #d80; }
  table.summary { border-collapse: collapse; margin: .5rem 0; }
  table.summary td, table.summary th { border: 1px solid #bbb; padding: .15rem .5rem; text-align: left; }
  ul { margin: .2rem 0; padding-left: 1.2rem; }
  @page { size: A4; margin: 12mm; }
  @media print { body { margin: 0; } section.machine { break-inside: auto; } }
`;

function alertBlock(a: Alert, input: ShiftReportInput): string {
  const t = (ms: number | null) => (ms === null ? '–' : formatIn(ms, input.timeZone));
  const png = input.pictures.get(a.id);
  const picture = png
    ? `<img alt="spectrogram and anomaly map of alert ${a.id}" src="data:image/png;base64,${png.toString('base64')}">`
    : `<p class="muted">No picture (${a.clip.available ? 'not kept' : 'the alert is still active'}).</p>`;
  const notes = a.annotations
    .map(
      (n) =>
        `<li><strong>${escape(n.label)}</strong> ${escape(n.text)} <span class="muted">(${escape(n.author)}, ${t(n.at)})</span></li>`,
    )
    .join('');
  const handled = [
    a.acknowledgedBy
      ? `acknowledged by ${escape(a.acknowledgedBy)} at ${t(a.acknowledgedAt)}`
      : 'not acknowledged',
    a.resolvedBy ? `resolved by ${escape(a.resolvedBy)} at ${t(a.resolvedAt)}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  const severity = severityOf(a);
  return `<article class="alert ${severity}" data-alert-id="${a.id}">
  <div>${picture}</div>
  <div>
    <strong>#${a.id} ${escape(a.kind)}</strong> · ${severity} · ${escape(a.state)}${a.active ? ' (active)' : ''}<br>
    ${t(a.start)} – ${a.end === null ? 'ongoing' : t(a.end)} · peak ${a.peakScore.toFixed(2)}× threshold<br>
    <span class="muted">${handled}</span>
    ${notes ? `<ul>${notes}</ul>` : '<p class="muted">No annotations.</p>'}
  </div>
</article>`;
}

/** The report's HTML page. */
export function shiftReportHtml(input: ShiftReportInput): string {
  const bySensor = new Map<string, Alert[]>();
  for (const a of input.alerts) bySensor.set(a.sensorId, [...(bySensor.get(a.sensorId) ?? []), a]);
  // Machines in label order (site, line, ...), then by name: the plant's layout, top to bottom.
  const groups = [...bySensor.entries()]
    .map(([id, alerts]) => {
      const s = input.sensors(id);
      const path = Object.entries(s?.labels ?? {}).map(([k, v]) => `${k} ${v}`);
      return { id, name: s?.name ?? id, path, alerts: alerts.sort((x, y) => x.start - y.start) };
    })
    .sort((x, y) => x.path.join('/').localeCompare(y.path.join('/')) || x.name.localeCompare(y.name));
  const period = `${formatIn(input.from, input.timeZone)} – ${formatIn(input.to, input.timeZone)} (${escape(input.timeZone)})`;
  const count = (state: string) => input.alerts.filter((a) => a.state === state).length;
  const machines = groups
    .map(
      (g) => `<section class="machine" data-sensor-id="${escape(g.id)}">
<h2>${escape(g.name)}${g.name !== g.id ? ` <span class="muted">(${escape(g.id)})</span>` : ''}${g.path.length ? ` <span class="muted">· ${escape(g.path.join(' › '))}</span>` : ''}</h2>
${g.alerts.map((a) => alertBlock(a, input)).join('\n')}
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>hark shift report ${escape(period)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Shift report</h1>
<p>${period}<br><span class="muted">made by ${escape(input.by)} at ${formatIn(input.at, input.timeZone)}; print with the browser (Ctrl+P)</span></p>
<table class="summary"><tr><th>Alerts</th><th>Machines</th><th>Open</th><th>Acknowledged</th><th>Resolved</th></tr>
<tr><td>${input.alerts.length}</td><td>${groups.length}</td><td>${count('open')}</td><td>${count('acknowledged')}</td><td>${count('resolved')}</td></tr></table>
${input.omitted > 0 ? `<p><strong>${input.omitted} more alerts of this period are not shown</strong>: choose a shorter period.</p>` : ''}
${machines || '<p>No alerts in this period.</p>'}
</body>
</html>
`;
}
