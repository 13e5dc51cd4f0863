/**
 * Colours of the charts: the Okabe-Ito palette (distinguishable with every common colour-vision deficiency)
 * on the dark control-room background; text keeps a contrast ratio above 7:1.
 */
export const palette = {
  text: '#d8dee9',
  muted: '#9aa5b4',
  axis: '#5c6778',
  grid: 'rgba(154, 165, 180, 0.15)',
  score: '#56B4E9',
  threshold: '#E69F00',
  alert: '#D55E00',
  alertFill: 'rgba(213, 94, 0, 0.18)',
  box: '#F0E442',
  acknowledged: '#CC79A7',
  ok: '#009E73',
} as const;

export const fontSize = { laptop: 12, wall: 18 } as const;
