/**
 * `/api/export`: the alert list as CSV with its filters, an alert's zip bundle (checked by Info-ZIP's
 * `unzip -t` and read back: a valid WAV, PNGs, the JSON with annotations), and the shift report.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '@hark/dsp';
import type { Alert } from '@hark/protocol';
import { ALERT_CSV_COLUMNS, csvText, zip } from '../../src/export/index.js';
import { startHarness, type Harness } from './harness.js';

const haveUnzip = spawnSync('unzip', ['-v']).error === undefined;
if (!haveUnzip)
  console.warn('export.test.ts: the zip checks by `unzip -t` are SKIPPED: apt-get install unzip');

/** Unpacks `bytes` with Info-ZIP's unzip after testing every entry's CRC; returns name -> content. */
function unzipAll(bytes: Buffer): Map<string, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'hark-zip-'));
  try {
    writeFileSync(join(dir, 'a.zip'), bytes);
    expect(execFileSync('unzip', ['-t', 'a.zip'], { cwd: dir }).toString()).toMatch(/No errors detected/);
    execFileSync('unzip', ['-q', 'a.zip', '-d', 'out'], { cwd: dir });
    const names = execFileSync('unzip', ['-Z1', 'a.zip'], { cwd: dir }).toString().trim().split('\n');
    return new Map(names.map((n) => [n, readFileSync(join(dir, 'out', n))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(haveUnzip)('zip', () => {
  it('writes archives unzip reads back byte for byte, deflated or stored', () => {
    const text = Buffer.from('hark '.repeat(1000));
    const noise = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251));
    const files = unzipAll(
      zip([
        { name: 'a.txt', data: text },
        { name: 'dir/noise.bin', data: noise },
        { name: 'empty', data: Buffer.alloc(0) },
        { name: 'ümlaut.json', data: Buffer.from('{}') },
      ]),
    );
    expect(files.get('a.txt')?.equals(text)).toBe(true);
    expect(files.get('dir/noise.bin')?.equals(noise)).toBe(true);
    expect(files.get('empty')?.length).toBe(0);
    expect(files.get('ümlaut.json')?.toString()).toBe('{}');
    expect(() => zip([{ name: '../x', data: text }])).toThrow(/without '..'/);
  });
});

describe('/api/export', () => {
  let h: Harness;
  let kept: Alert;
  let other: Alert;
  beforeAll(async () => {
    h = await startHarness();
    h.store.sensors.upsert('press-1', 1, { name: 'Press 1', labels: { site: 'plant-1', line: 'A' } });
    kept = h.alert('press-1');
    other = h.alert('pump-2');
    h.store.alerts.annotate(kept.id, {
      label: 'true fault',
      text: 'bearing, "loud", left side',
      author: 'olga',
    });
    h.store.alerts.annotate(kept.id, { label: 'maintenance', text: '=HYPERLINK("x")', author: 'olga' });
    h.store.alerts.acknowledge(other.id, 'olga');
    const samples = Float32Array.from({ length: 16000 }, (_, i) => 0.5 * Math.sin(i / 10));
    await h.media.writeClip(kept.id, samples, 16000);
    h.store.alerts.setClip(kept.id, { start: kept.start - 2000, seconds: 1 });
    const nFrames = 50;
    const nMels = 8;
    await h.media.writeSpectrogram(kept.id, {
      t0: 1000,
      hopSeconds: 0.016,
      nFrames,
      nMels,
      melHz: Array.from({ length: nMels }, (_, i) => 100 * (i + 1)),
      dbRange: [-80, 0],
      anomalyScale: 4,
      spectrogram: Uint8Array.from({ length: nFrames * nMels }, (_, i) => (i % nMels) * 30),
      anomaly: Uint8Array.from({ length: nFrames * nMels }, (_, i) => (i > 200 ? 128 : 0)),
    });
  });
  afterAll(() => h.close());

  it('CSV: the filters of the list, quoted fields, formulas defused; a token in the URL is refused', async () => {
    const inUrl = await h.call(`/api/export/alerts.csv?token=${h.operator}`, { token: null });
    expect(inUrl.status).toBe(401);
    const all = await h.call(`/api/export/alerts.csv`, { token: h.operator });
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(all.headers.get('content-disposition')).toMatch(
      /^attachment; filename="hark-alerts-\d{8}-\d{4}\.csv"$/,
    );
    const lines = all.bytes.toString().split('\r\n');
    expect(lines[0]).toBe(ALERT_CSV_COLUMNS.join(','));
    expect(lines.filter(Boolean)).toHaveLength(3);

    const open = await h.call('/api/export/alerts.csv?state=open&sensorId=press-1', { token: h.operator });
    const rows = open.bytes.toString().trim().split('\r\n');
    expect(rows).toHaveLength(2);
    const row = rows[1];
    expect(row.startsWith(`${kept.id},press-1,Press 1,site=plant-1; line=A,anomaly,warning,open,true,`)).toBe(
      true,
    );
    // One quoted field holds both notes, inner quotes doubled.
    expect(row).toContain('"true fault: bearing, ""loud"", left side (olga, ');
    expect(row).toContain('maintenance: =HYPERLINK(""x"")');
    const onlyAck = await h.call('/api/export/alerts.csv?state=acknowledged');
    expect(onlyAck.bytes.toString()).toContain(`\r\n${other.id},pump-2,`);
    expect(onlyAck.bytes.toString()).not.toContain(`\r\n${kept.id},`);
    // A typed field that a spreadsheet would run as a formula is shown as text.
    expect(csvText('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvText('-2+3')).toBe("'-2+3");
    expect(csvText('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvText('pump 1')).toBe('pump 1');
    // The list's notes search, label group and order hold for the CSV too.
    const ids = async (q: string) =>
      (await h.call(`/api/export/alerts.csv?${q}`)).bytes
        .toString()
        .trim()
        .split('\r\n')
        .slice(1)
        .map((l) => Number(l.split(',')[0]));
    expect(await ids('q=LOUD')).toEqual([kept.id]);
    expect(await ids('group=line:A')).toEqual([kept.id]);
    expect(await ids('sort=id&order=asc')).toEqual([...(await ids('sort=id'))].reverse());
    expect(await ids('sort=id&order=asc')).toHaveLength(2);
    const bad = await h.call<{ message: string }>('/api/export/alerts.csv?state=lost');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/state \('lost'\) must be one of/);
  });

  it.runIf(haveUnzip)('bundle: alert.json with annotations, a valid WAV clip and the pictures', async () => {
    const res = await h.call(`/api/export/alerts/${kept.id}/bundle.zip`, { token: h.operator });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="hark-alert-${kept.id}.zip"`);
    const files = unzipAll(res.bytes);
    expect([...files.keys()]).toEqual([
      'alert.json',
      'clip.wav',
      'spectrogram.png',
      'anomaly.png',
      'overlay.png',
    ]);
    const wav = decodeWav(new Uint8Array(files.get('clip.wav')!), 'clip.wav');
    expect(wav.samples.length).toBe(16000);
    expect(wav.sampleRate).toBe(16000);
    for (const p of ['spectrogram.png', 'anomaly.png', 'overlay.png'])
      expect(files.get(p)!.subarray(1, 4).toString()).toBe('PNG');
    const json = JSON.parse(files.get('alert.json')!.toString()) as {
      alert: Alert;
      sensor: { name: string; labels: Record<string, string> };
      deliveries: unknown[];
    };
    expect(json.alert.id).toBe(kept.id);
    expect(json.alert.annotations.map((a) => a.text)).toEqual([
      'bearing, "loud", left side',
      '=HYPERLINK("x")',
    ]);
    expect(json.sensor).toEqual({ id: 'press-1', name: 'Press 1', labels: { site: 'plant-1', line: 'A' } });
    expect(json.deliveries).toEqual([]);

    // An alert without media: only its JSON.
    const bare = unzipAll((await h.call(`/api/export/alerts/${other.id}/bundle.zip`)).bytes);
    expect([...bare.keys()]).toEqual(['alert.json']);
    expect((await h.call('/api/export/alerts/999999/bundle.zip')).status).toBe(404);
  });

  it('shift report: the period grouped by machine, pictures inline, notes escaped, times in the zone', async () => {
    const from = kept.start - 60_000;
    const to = other.start + 60_000;
    const res = await h.call(`/api/export/shift-report?from=${from}&to=${to}&tz=Asia/Tokyo`, {
      token: h.operator,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = res.bytes.toString();
    expect(html).toContain('(Asia/Tokyo)');
    expect(html.match(/<section class="machine"/g)).toHaveLength(2);
    expect(html).toMatch(
      /<h2>Press 1 <span class="muted">\(press-1\)<\/span> <span class="muted">· site plant-1 › line A/,
    );
    expect(html).toContain(`data-alert-id="${kept.id}"`);
    expect(html).toMatch(
      /<img alt="spectrogram and anomaly map of alert \d+" src="data:image\/png;base64,iVBOR/,
    );
    expect(html).toContain('bearing, &quot;loud&quot;, left side');
    expect(html).toContain(`acknowledged by olga`);
    expect(html).not.toContain('<script');
    const bad = await h.call<{ message: string }>(`/api/export/shift-report?tz=Mars/Base`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/tz \('Mars\/Base'\) must be an IANA time zone/);
    const long = await h.call<{ message: string }>(`/api/export/shift-report?from=0&to=${40 * 86_400_000}`);
    expect(long.status).toBe(400);
  });
});
