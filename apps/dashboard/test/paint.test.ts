import { describe, expect, it } from 'vitest';
import { asBytes, base64ToBytes, canvasSize, paintColumns } from '../src/lib/paint';

describe('painting columns', () => {
  it('puts mel bin 0 on the bottom row and columns left to right', () => {
    const nMels = 3;
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6]); // two columns
    const lut = new Uint32Array(256).map((_, i) => i * 10);
    const width = 4;
    const out = new Uint32Array(width * nMels);
    paintColumns(bytes, nMels, 0, 2, lut, out, width, 1);
    // rows top to bottom: mel 2, mel 1, mel 0
    expect([...out]).toEqual([0, 30, 60, 0, 0, 20, 50, 0, 0, 10, 40, 0]);
  });

  it('decodes base64 and socket.io binary payloads', () => {
    expect([...base64ToBytes('AAH/')]).toEqual([0, 1, 255]);
    expect([...asBytes(new Uint8Array([1, 2]).buffer)]).toEqual([1, 2]);
    expect([...asBytes(new Uint16Array([0x0201]))]).toEqual([1, 2]);
    expect([...asBytes([3, 4])]).toEqual([3, 4]);
  });

  it('sizes a canvas to its grid at the device pixel ratio, at most 2, at least one pixel', () => {
    const rect = { left: 72, right: 20, top: 10, height: 100.4 };
    expect(canvasSize(rect, 592, 1)).toEqual({ width: 500, height: 100 });
    expect(canvasSize(rect, 592, 1.5)).toEqual({ width: 750, height: 151 });
    expect(canvasSize(rect, 592, 3)).toEqual({ width: 1000, height: 201 });
    expect(canvasSize(rect, 592, 0)).toEqual({ width: 500, height: 100 });
    expect(canvasSize(rect, 50, 2)).toEqual({ width: 1, height: 201 });
  });
});
