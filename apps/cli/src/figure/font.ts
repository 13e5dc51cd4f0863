/**
 * A 5x7 bitmap font for the labels of hark's pictures (printable ASCII in the classic HD44780 character
 * shapes), so the CLI draws titles and tick labels without a font rasteriser. Each glyph is seven rows, top
 * first, of five bits (bit 4 = leftmost column), written as 14 hex digits; `GLYPHS[i]` is character 32 + i.
 */
const GLYPHS = [
  '00000000000000', // space
  '04040404000004', // !
  '0a0a0a00000000', // "
  '0a0a1f0a1f0a0a', // #
  '040f140e051e04', // $
  '18190204081303', // %
  '0c12140815120d', // &
  '0c040800000000', // '
  '02040808080402', // (
  '08040202020408', // )
  '0004150e150400', // *
  '0004041f040400', // +
  '000000000c0408', // ,
  '0000001f000000', // -
  '00000000000c0c', // .
  '00010204081000', // /
  '0e11131519110e', // 0
  '040c040404040e', // 1
  '0e11010204081f', // 2
  '1f02040201110e', // 3
  '02060a121f0202', // 4
  '1f101e0101110e', // 5
  '0608101e11110e', // 6
  '1f010204080808', // 7
  '0e11110e11110e', // 8
  '0e11110f01020c', // 9
  '000c0c000c0c00', // :
  '000c0c000c0408', // ;
  '02040810080402', // <
  '00001f001f0000', // =
  '08040201020408', // >
  '0e110102040004', // ?
  '0e11010d15150e', // @
  '0e1111111f1111', // A
  '1e11111e11111e', // B
  '0e11101010110e', // C
  '1c12111111121c', // D
  '1f10101e10101f', // E
  '1f10101e101010', // F
  '0e11101711110f', // G
  '1111111f111111', // H
  '0e04040404040e', // I
  '0702020202120c', // J
  '11121418141211', // K
  '1010101010101f', // L
  '111b1515111111', // M
  '11111915131111', // N
  '0e11111111110e', // O
  '1e11111e101010', // P
  '0e11111115120d', // Q
  '1e11111e141211', // R
  '0f10100e01011e', // S
  '1f040404040404', // T
  '1111111111110e', // U
  '11111111110a04', // V
  '1111111515150a', // W
  '11110a040a1111', // X
  '1111110a040404', // Y
  '1f01020408101f', // Z
  '0e08080808080e', // [
  '00100804020100', // backslash
  '0e02020202020e', // ]
  '040a1100000000', // ^
  '0000000000001f', // _
  '08040200000000', // `
  '00000e010f110f', // a
  '1010161911111e', // b
  '00000e1010110e', // c
  '01010d1311110f', // d
  '00000e111f100e', // e
  '0609081c080808', // f
  '000f11110f010e', // g
  '10101619111111', // h
  '04000c0404040e', // i
  '0200060202120c', // j
  '10101214181412', // k
  '0c04040404040e', // l
  '00001a15151111', // m
  '00001619111111', // n
  '00000e1111110e', // o
  '00001e111e1010', // p
  '00000d130f0101', // q
  '00001619101010', // r
  '00000e100e011e', // s
  '08081c08080906', // t
  '0000111111130d', // u
  '00001111110a04', // v
  '0000111115150a', // w
  '0000110a040a11', // x
  '000011110f010e', // y
  '00001f0204081f', // z
  '02040408040402', // {
  '04040404040404', // |
  '08040402040408', // }
  '00000815020000', // ~
];

/** Glyph size in font pixels, and the advance from one character to the next (one column of space). */
export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
const ADVANCE = GLYPH_WIDTH + 1;

/** The seven row bit masks of `ch`; characters outside printable ASCII are drawn as '?'. */
export function glyph(ch: string): number[] {
  const code = ch.charCodeAt(0);
  const hex = GLYPHS[code >= 32 && code < 32 + GLYPHS.length ? code - 32 : '?'.charCodeAt(0) - 32];
  return Array.from({ length: GLYPH_HEIGHT }, (_, r) => parseInt(hex.slice(2 * r, 2 * r + 2), 16));
}

/** Width in image pixels of `text` drawn at `scale` image pixels per font pixel (no trailing space). */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * ADVANCE - 1) * scale;
}

/** Calls `dot(x, y)` for every lit font pixel of `text` with its top-left corner at (x, y) in font pixels x `scale`. */
export function rasterise(
  text: string,
  scale: number,
  dot: (x: number, y: number, size: number) => void,
): void {
  for (let i = 0; i < text.length; i++) {
    const rows = glyph(text[i]);
    for (let r = 0; r < GLYPH_HEIGHT; r++)
      for (let c = 0; c < GLYPH_WIDTH; c++)
        if (rows[r] & (1 << (GLYPH_WIDTH - 1 - c))) dot((i * ADVANCE + c) * scale, r * scale, scale);
  }
}
