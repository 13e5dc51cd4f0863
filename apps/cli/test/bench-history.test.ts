import { describe, expect, it } from 'vitest';
import { runHistoryBench } from '../src/bench/history.js';

describe('hark bench history', () => {
  it('writes a day of history for two sensors and times the ranges it covers through hark serve', async () => {
    const body = await runHistoryBench({ sensors: 2, days: 1, repeat: 2, maxColumns: 500, write: false });
    expect(body).toMatch(/\| full \(every column\) \| 1382 MB \| 1 h \| 57\.6 MB \|/);
    expect(body).toMatch(/\| reduced \(max over 0\.5 s\) \| 44\.2 MB \| 7 d \| 310 MB \|/);
    // 1 h in 500 columns of 7.2 s: the reduced tier; 24 h in columns of 173 s: the coarse one. No 7 d row
    // for a day of history.
    expect(body).toMatch(/\| 1 h \| reduced \| 500 \|/);
    expect(body).toMatch(/\| 24 h \| coarse \| 500 \|/);
    expect(body).not.toMatch(/\| 7 d \| (full|reduced|coarse) \|/);
  }, 300_000);
});
