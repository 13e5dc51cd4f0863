/**
 * Frames per second sampled with requestAnimationFrame while a view is open; the browser tests' build also
 * exposes them as `window.__harkFps` (frames in the last second) and `window.__harkFpsStats`.
 */
import { onBeforeUnmount, onMounted, ref } from 'vue';
import { TEST_HOOKS } from '../lib/test-hooks';

export interface FpsStats {
  /** Frames counted since the view opened. */
  frames: number;
  seconds: number;
  mean: number;
  /** Lowest one-second count seen (after the first second). */
  min: number;
  /** Longest gap between two frames (ms). */
  worstFrameMs: number;
}

declare global {
  interface Window {
    __harkFps?: number;
    __harkFpsStats?: FpsStats;
    __harkColumns?: number;
  }
}

export function useFps() {
  const fps = ref(0);
  let raf = 0;
  let start = 0;
  let last = 0;
  let windowStart = 0;
  let windowFrames = 0;
  const stats: FpsStats = { frames: 0, seconds: 0, mean: 0, min: Infinity, worstFrameMs: 0 };

  const tick = (now: number) => {
    if (!start) start = windowStart = last = now;
    else {
      stats.frames++;
      windowFrames++;
      stats.worstFrameMs = Math.max(stats.worstFrameMs, now - last);
      last = now;
      if (now - windowStart >= 1000) {
        fps.value = Math.round((windowFrames * 1000) / (now - windowStart));
        stats.min = Math.min(stats.min, fps.value);
        windowStart = now;
        windowFrames = 0;
      }
      stats.seconds = (now - start) / 1000;
      stats.mean = stats.seconds > 0 ? stats.frames / stats.seconds : 0;
      if (TEST_HOOKS) {
        window.__harkFps = fps.value;
        window.__harkFpsStats = { ...stats };
      }
    }
    raf = requestAnimationFrame(tick);
  };

  onMounted(() => {
    raf = requestAnimationFrame(tick);
  });
  onBeforeUnmount(() => cancelAnimationFrame(raf));
  return { fps };
}
