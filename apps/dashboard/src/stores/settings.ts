/** Operator preferences, kept in localStorage. */
import { reactive, watch } from 'vue';
import type { SpectrogramMap } from '../lib/colormap';

export interface Settings {
  /** Audible notification of new alerts (off by default). */
  sound: boolean;
  density: 'laptop' | 'wall';
  spectrogramMap: SpectrogramMap;
  anomalyDisplay: 'overlay' | 'split';
  windowSeconds: number;
  /** Keys of the asset groups folded on the overview (`AssetGroup.key`). */
  collapsedGroups: string[];
}

const KEY = 'hark.settings';
const DEFAULTS: Settings = {
  sound: false,
  density: 'laptop',
  spectrogramMap: 'grey',
  anomalyDisplay: 'overlay',
  windowSeconds: 30,
  collapsedGroups: [],
};

function load(storage: Storage | undefined): Settings {
  try {
    const raw = storage?.getItem(KEY);
    return raw ? { ...DEFAULTS, ...(JSON.parse(raw) as Partial<Settings>) } : { ...DEFAULTS };
  } catch {
    return { ...DEFAULTS };
  }
}

const storage = typeof localStorage === 'undefined' ? undefined : localStorage;

export const settings = reactive<Settings>(load(storage));

watch(settings, (s) => storage?.setItem(KEY, JSON.stringify(s)), { deep: true });
