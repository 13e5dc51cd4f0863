/** Visible notifications (new alerts, action results), and the optional audible one. */
import { reactive } from 'vue';

export interface Toast {
  id: number;
  kind: 'alert' | 'info' | 'error';
  text: string;
  href?: string;
}

let next = 1;
export const toasts = reactive<Toast[]>([]);

export function toast(
  kind: Toast['kind'],
  text: string,
  href?: string,
  ms = kind === 'alert' ? 12_000 : 5000,
): void {
  const t = { id: next++, kind, text, href };
  // The same words already shown (a 503 toasted by the shell and by the view that asked): shown once, anew.
  const same = toasts.findIndex((o) => o.kind === kind && o.text === text && o.href === href);
  if (same >= 0) toasts.splice(same, 1);
  toasts.push(t);
  if (toasts.length > 5) toasts.splice(0, toasts.length - 5);
  setTimeout(() => dismiss(t.id), ms);
}

export function dismiss(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

let audio: AudioContext | null = null;

/** A short two-tone beep through WebAudio (only after the operator switched sound on: a user gesture). */
export function beep(): void {
  try {
    audio ??= new AudioContext();
    const ctx = audio;
    const t = ctx.currentTime;
    for (const [i, f] of [880, 660].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = f;
      gain.gain.setValueAtTime(0.0001, t + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.25, t + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.18 + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + i * 0.18);
      osc.stop(t + i * 0.18 + 0.17);
    }
  } catch {
    // No audio device: the visible toast remains.
  }
}
