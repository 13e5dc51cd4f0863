/** Pictures of spectrograms and anomaly maps: colour maps, heatmaps, blending, overlays, PNG output. */
export { GREY_RGB, overlay, readableScale, upscale, type OverlayOptions } from './compose.js';
export { blend, dbScale, heatmap, type ColourScale, type Grid, type RgbaImage } from './heatmap.js';
export { MAGMA_RGB } from './magma.js';
export { encodePng, writePng } from './png.js';
