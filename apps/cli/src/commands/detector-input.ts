import {
  resolveDetectorConfig,
  type BackboneId,
  type DetectorConfigInput,
  type MethodId,
} from '@hark/detection';

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
