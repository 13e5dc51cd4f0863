import { describe, expect, it } from 'vitest';
import {
  auc,
  clipRankAuc,
  faultKind,
  kindClips,
  kindTable,
  shareOverThreshold,
  type GroundTruth,
} from '../src/index.js';

const gt = (type: string, label = '', detail: Record<string, unknown> = {}): GroundTruth => ({
  type,
  detail,
  events: [{ onset: 1, offset: 2, lowHz: 0, highHz: 100, label }],
});

describe('faultKind', () => {
  it("is the ground truth's type, or the event's label for an event", () => {
    expect(faultKind(gt('tone', 'tone'))).toEqual({ kind: 'tone', type: 'tone' });
    expect(faultKind(gt('event', 'door_knock'))).toEqual({ kind: 'door_knock', type: 'event' });
    expect(faultKind(gt('event', '', { event: 'cough' }))).toEqual({ kind: 'cough', type: 'event' });
    expect(faultKind(gt('event'))).toEqual({ kind: 'unlabelled event', type: 'event' });
    expect(faultKind(null)).toEqual({ kind: 'unknown', type: 'unknown' });
  });
});

describe('clipRankAuc', () => {
  it('is the share of normal scores below the clip, a tie counting one half', () => {
    expect(clipRankAuc(5, [1, 2, 3, 4])).toBe(1);
    expect(clipRankAuc(0, [1, 2, 3, 4])).toBe(0);
    expect(clipRankAuc(2.5, [1, 2, 3, 4])).toBe(0.5);
    expect(clipRankAuc(3, [1, 2, 3, 4])).toBe(0.625); // 2 below + 1 tie / 2
    expect(() => clipRankAuc(1, [])).toThrow(/at least one normal score/);
  });

  it("averages to the group's ROC AUC over its anomalous clips", () => {
    const normal = [0.2, 0.9, 0.4, 0.7];
    const anomalous = [0.8, 0.3, 1.2];
    const mean = anomalous.reduce((s, a) => s + clipRankAuc(a, normal), 0) / anomalous.length;
    const labels = [...normal.map(() => 0), ...anomalous.map(() => 1)];
    expect(mean).toBeCloseTo(auc([...normal, ...anomalous], labels), 12);
  });
});

describe('shareOverThreshold', () => {
  it('counts normalised scores at or over 1', () => {
    expect(shareOverThreshold([0.5, 1, 1.5, 0.99])).toBe(0.5);
    expect(shareOverThreshold([])).toBeNaN();
  });
});

describe('kindTable', () => {
  it('pools clips of a kind over groups, each ranked against its own group, events after the other kinds', () => {
    // Group A: normal scores 1..4 (raw); its threshold puts normalised = raw / 4.
    const a = kindClips(
      [1, 2, 3, 4],
      [
        // auc 1, detected and alerting; band IoU 50/150
        {
          gt: gt('tone', 'tone'),
          score: 5,
          normalised: 1.25,
          alertLevel: 1.1,
          box: { lowHz: 50, highHz: 150 },
          pixelAuc: 0.9,
        },
        // auc 0.5, missed; IoU 0
        {
          gt: gt('tone', 'tone'),
          score: 2.5,
          normalised: 0.625,
          box: { lowHz: 200, highHz: 300 },
          pixelAuc: 0.7,
        },
        // auc 0.875, detected (>= 1), but no two windows in a row over the threshold: no alert
        { gt: gt('event', 'door_knock'), score: 4, normalised: 1, alertLevel: 0.8 },
      ],
    );
    // Group B: other normal scores; the same kinds.
    const b = kindClips(
      [10, 20],
      [
        {
          gt: gt('tone', 'tone'),
          score: 15,
          normalised: 0.9,
          alertLevel: 0.85,
          box: { lowHz: 0, highHz: 100 },
        }, // auc 0.5; band IoU 1
        // auc 1; a clip without pixel truth (null) is left out of its kind's pixelAuc
        { gt: gt('event', 'glass_break'), score: 30, normalised: 2, alertLevel: 2, pixelAuc: 0.6 },
        { gt: gt('dropout', 'dropout'), score: 5, normalised: 0.1 }, // auc 0
      ],
    );
    expect(kindTable([...a, ...b])).toEqual([
      {
        kind: 'dropout',
        type: 'dropout',
        clips: 1,
        auc: 0,
        recall: 0,
        alertRecall: Number.NaN, // no clip of the kind has an alert level
        boxIoU: null,
        boxIoUClips: 0,
        eventBoxIoU: null,
        pixelAuc: null,
      },
      {
        kind: 'tone',
        type: 'tone',
        clips: 3,
        auc: (1 + 0.5 + 0.5) / 3,
        recall: 1 / 3,
        alertRecall: 1 / 2, // over the two clips with an alert level
        boxIoU: 1 / 3,
        boxIoUClips: 3,
        eventBoxIoU: 1 / 3,
        pixelAuc: (0.9 + 0.7) / 2, // the clip of group B has none,
      },
      {
        kind: 'event',
        type: 'event',
        clips: 2,
        auc: (0.875 + 1) / 2,
        recall: 1,
        alertRecall: 1 / 2,
        boxIoU: null,
        boxIoUClips: 0,
        eventBoxIoU: null,
        pixelAuc: 0.6,
      },
      {
        kind: 'door_knock',
        type: 'event',
        clips: 1,
        auc: 0.875,
        recall: 1,
        alertRecall: 0,
        boxIoU: null,
        boxIoUClips: 0,
        eventBoxIoU: null,
        pixelAuc: null,
      },
      {
        kind: 'glass_break',
        type: 'event',
        clips: 1,
        auc: 1,
        recall: 1,
        alertRecall: 1,
        boxIoU: null,
        boxIoUClips: 0,
        eventBoxIoU: null,
        pixelAuc: 0.6,
      },
    ]);
    expect(kindTable([])).toEqual([]);
  });

  it('takes the median band IoU over the clips with a box, skipping the others', () => {
    const [noBox, narrow] = kindClips(
      [1],
      [
        { gt: gt('tone', 'tone'), score: 2, normalised: 2, box: null },
        { gt: gt('tone', 'tone'), score: 2, normalised: 2, box: { lowHz: 25, highHz: 75 } },
      ],
    );
    expect(noBox.boxIoU).toBeNull();
    expect(narrow.boxIoU).toBe(0.5);
    expect(kindTable([noBox, narrow])[0]).toMatchObject({ boxIoU: 0.5, boxIoUClips: 1 });
  });

  it("scores a box on a tone against the tone's band, not the hull of the tone and its harmonic", () => {
    // A 1 kHz tone and its second harmonic, each +-5 %: the hull 950..2100 Hz is mostly empty.
    const tone: GroundTruth = {
      type: 'tone',
      detail: {},
      events: [
        { onset: 1, offset: 2, lowHz: 950, highHz: 1050, label: 'tone' },
        { onset: 1, offset: 2, lowHz: 1900, highHz: 2100, label: 'tone' },
      ],
    };
    const [onTone, overGap] = kindClips(
      [1],
      [
        { gt: tone, score: 2, normalised: 2, box: { lowHz: 960, highHz: 1060 } },
        { gt: tone, score: 2, normalised: 2, box: { lowHz: 950, highHz: 2100 } },
      ],
    );
    expect(onTone.boxIoU).toBeCloseTo(100 / 1150, 10);
    expect(onTone.eventBoxIoU).toBeCloseTo(90 / 110, 10);
    expect(overGap.boxIoU).toBe(1);
    expect(overGap.eventBoxIoU).toBeCloseTo(200 / 1150, 10);
    expect(kindTable([onTone, overGap])[0].eventBoxIoU).toBeCloseTo((90 / 110 + 200 / 1150) / 2, 10);
  });
});
