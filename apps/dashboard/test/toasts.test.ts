import { afterEach, describe, expect, it, vi } from 'vitest';
import { dismiss, toast, toasts } from '../src/stores/toasts';

describe('toasts', () => {
  afterEach(() => {
    for (const t of [...toasts]) dismiss(t.id);
    vi.useRealTimers();
  });

  it('the same words twice (a refused action toasted by the shell and by its view) show once, anew', () => {
    vi.useFakeTimers();
    toast('error', 'Not applied: retry in 5 s.');
    vi.advanceTimersByTime(4000);
    toast('info', 'Alert #3: acknowledged');
    toast('error', 'Not applied: retry in 5 s.');
    expect(toasts.map((t) => t.text)).toEqual(['Alert #3: acknowledged', 'Not applied: retry in 5 s.']);
    // The first one's timer (at 5 s) ends nothing: the second is shown its full 5 s.
    vi.advanceTimersByTime(1000);
    expect(toasts.map((t) => t.text)).toContain('Not applied: retry in 5 s.');
    vi.advanceTimersByTime(3999);
    expect(toasts.map((t) => t.text)).toContain('Not applied: retry in 5 s.');
    vi.advanceTimersByTime(1);
    expect(toasts).toEqual([]);
  });
});
