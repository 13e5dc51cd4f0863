/** Single-key shortcuts for a view (ignored while typing in a field or with a modifier held). */
import { onBeforeUnmount, onMounted } from 'vue';

export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

export function useHotkeys(keys: Record<string, (e: KeyboardEvent) => void>) {
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
    const fn = keys[e.key];
    if (fn) {
      e.preventDefault();
      fn(e);
    }
  };
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
}
