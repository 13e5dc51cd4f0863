import { onBeforeUnmount, ref } from 'vue';

/** The current time, refreshed every `everyMs`. */
export function useNow(everyMs = 1000) {
  const now = ref(Date.now());
  const id = setInterval(() => (now.value = Date.now()), everyMs);
  onBeforeUnmount(() => clearInterval(id));
  return now;
}
