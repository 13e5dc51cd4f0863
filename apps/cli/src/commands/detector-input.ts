import {
  resolveDetectorConfig,
  type BackboneId,
  type DetectorConfigInput,
  type MethodId,
} from '@hark/detection';

const DEFAULTS = resolveDetectorConfig();

/** Help texts of the detector options shared by `hark fit` and `hark evaluate`, with the library's defaults. */
export const DETECTOR_HELP = {
  method: `anomaly method (default: ${DEFAULTS.method}, or the method in --config)`,
  backbone: `pretrained feature extractor (default: ${DEFAULTS.backbone}, or the backbone in --config)`,
  config:
    'detector configuration overrides as a JSON object, e.g. \'{"contextFrames": 0}\' (field names of ' +
    'DetectorConfig; default: none, every field at its default)',
};

/** The detector configuration of `hark fit` / `hark evaluate`: `--config` overrides, then `--method`, `--backbone`. */
export function detectorInput(o: {
  method?: MethodId;
  backbone?: BackboneId;
  config?: Record<string, unknown>;
}): DetectorConfigInput {
  const known = Object.keys(resolveDetectorConfig());
  const unknown = Object.keys(o.config ?? {}).filter((k) => !known.includes(k));
  if (unknown.length)
    throw new Error(
      `--config: unknown field ${unknown.map((k) => `'${k}'`).join(', ')}; fields: ${known.join(', ')}`,
    );
  return {
    ...(o.config as DetectorConfigInput | undefined),
    ...(o.method && { method: o.method }),
    ...(o.backbone && { backbone: o.backbone }),
  };
}
