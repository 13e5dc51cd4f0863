import type { Alert, ModelStatus, SensorStatus } from '../src/lib/contracts';

export function model(patch: Partial<ModelStatus> = {}): ModelStatus {
  return {
    sensorId: 'pump-1',
    state: 'ready',
    method: 'patchcore',
    backbone: 'mobilenet_v2',
    bankSize: 1000,
    threshold: 2.5,
    fittedAt: '2025-01-01T00:00:00.000Z',
    trainingSeconds: 60,
    trainingClips: 6,
    source: 'enrol',
    feedbackWindows: 0,
    progress: null,
    error: null,
    version: 1,
    shadowVersion: null,
    minTrainingClips: 6,
    recommendedEnrolSeconds: 100,
    ...patch,
  };
}

export function sensor(patch: Partial<SensorStatus> = {}): SensorStatus {
  const id = patch.id ?? 'pump-1';
  return {
    id,
    name: id,
    labels: {},
    state: 'scoring',
    connected: true,
    lastSeen: 1_700_000_000_000,
    stateSince: 1_700_000_000_000,
    levelDbfs: -30,
    peakDbfs: -12,
    clipping: 0,
    clipped: false,
    silent: false,
    sampleRate: 16000,
    streamStartedAt: 1_700_000_000_000,
    windowsScored: 10,
    windowsDropped: 0,
    dropRate: 0,
    queueDepth: 0,
    windowsSkipped: 0,
    scoringHopSeconds: 0.5,
    burnIn: null,
    instance: null,
    lastScore: 0.4,
    threshold: 2.5,
    openAlerts: 0,
    needsAttention: 0,
    activeAlertId: null,
    activeSince: null,
    snoozedUntil: null,
    severityThresholds: { criticalPeak: 2, criticalSeconds: 30, custom: false },
    model: model({ sensorId: id }),
    ...patch,
  };
}

export function alert(patch: Partial<Alert> = {}): Alert {
  return {
    id: 1,
    sensorId: 'pump-1',
    kind: 'anomaly',
    state: 'open',
    active: false,
    start: 1_700_000_000_000,
    end: 1_700_000_003_000,
    peakScore: 2.1,
    peakAt: 1_700_000_001_000,
    threshold: 2.5,
    boxes: [],
    acknowledgedBy: null,
    acknowledgedAt: null,
    resolvedBy: null,
    resolvedAt: null,
    annotations: [],
    clip: { available: true, start: 1_699_999_998_000, seconds: 7 },
    feedback: null,
    severity: 'critical',
    count: 1,
    occurrences: [
      {
        start: 1_700_000_000_000,
        end: 1_700_000_003_000,
        peakScore: 2.1,
        peakAt: 1_700_000_001_000,
        openedAt: 1_700_000_000_500,
        clearedAt: 1_700_000_003_500,
      },
    ],
    clearedAt: 1_700_000_003_500,
    autoResolved: false,
    ...patch,
  };
}

/** Mel centre frequencies like librosa's for 64 bins over 0-8000 Hz (HTK formula). */
export function melHz(nMels = 64, fMin = 0, fMax = 8000): number[] {
  const toMel = (f: number) => 2595 * Math.log10(1 + f / 700);
  const toHz = (m: number) => 700 * (10 ** (m / 2595) - 1);
  const lo = toMel(fMin);
  const hi = toMel(fMax);
  return Array.from({ length: nMels }, (_, i) => toHz(lo + ((hi - lo) * (i + 1)) / (nMels + 1)));
}
