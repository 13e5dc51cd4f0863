import { writeFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import type { RgbaImage } from './heatmap.js';

/** Encodes an RGBA image as PNG bytes (8-bit, colour type 6). */
export function encodePng(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}

/** Writes an RGBA image to `path` as PNG; errors name the path. */
export async function writePng(path: string, image: RgbaImage): Promise<void> {
  if (image.width === 0 || image.height === 0) {
    throw new Error(`${path}: cannot write an empty ${image.width}x${image.height} image (no frames?)`);
  }
  try {
    await writeFile(path, encodePng(image));
  } catch (err) {
    throw new Error(`${path}: cannot write the PNG (${(err as Error).message})`);
  }
}
