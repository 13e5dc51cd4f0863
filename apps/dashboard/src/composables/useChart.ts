/** An ECharts instance bound to an element: created on mount, resized with it, disposed on unmount. */
import { onBeforeUnmount, onMounted, ref, shallowRef, type Ref } from 'vue';
import { init, type EChartsType } from '../charts/echarts';

export function useChart(el: Ref<HTMLElement | null>, onResize?: (width: number, height: number) => void) {
  const chart = shallowRef<EChartsType | null>(null);
  const size = ref({ width: 0, height: 0 });
  let observer: ResizeObserver | null = null;

  onMounted(() => {
    if (!el.value) return;
    chart.value = init(el.value, undefined, { renderer: 'canvas' });
    size.value = { width: el.value.clientWidth, height: el.value.clientHeight };
    observer = new ResizeObserver(() => {
      if (!el.value || !chart.value) return;
      const { clientWidth: width, clientHeight: height } = el.value;
      if (width === size.value.width && height === size.value.height) return;
      size.value = { width, height };
      chart.value.resize();
      onResize?.(width, height);
    });
    observer.observe(el.value);
  });

  onBeforeUnmount(() => {
    observer?.disconnect();
    chart.value?.dispose();
    chart.value = null;
  });

  return { chart, size };
}
