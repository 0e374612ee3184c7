/** Colour helpers for labels: hex normalisation and a perceptual lightness in 0..1. */

/** `"ABC123"`, `"#abc123"` → `"#abc123"`; throws on anything else. */
export function NormaliseHexColour(text: string): string {
  const match = /^#?([0-9a-fA-F]{6})$/.exec(text.trim());
  if (!match) throw new Error(`not a colour: "${text}" (expected 6 hex digits, e.g. #dcdcdc)`);
  return `#${match[1].toLowerCase()}`;
}

/** `"#rrggbb"` → [r, g, b] in 0..255. */
export function HexToRgb(hex: string): [number, number, number] {
  const value = Number.parseInt(NormaliseHexColour(hex).slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/**
 * CIE L* of an sRGB colour divided by 100: 0 = black, 1 = white, perceptually even steps.
 * Used for the numeric `skin_tone` and `hair_lightness` labels; rounded to 4 decimals so the
 * manifest's bytes do not depend on floating-point printing quirks.
 */
export function ColourLightness(hex: string): number {
  const [r, g, b] = HexToRgb(hex);
  return Math.round(LStar(r, g, b) * 100) / 10000;
}

/** CIE L* / 100 of an sRGB colour given as bytes (0..255 each), unrounded: 0 = black, 1 = white. */
export function SrgbLightness(r: number, g: number, b: number): number {
  return LStar(r, g, b) / 100;
}

/** CIE L* (0..100) of sRGB bytes. */
function LStar(r: number, g: number, b: number): number {
  const linear = (c: number): number => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const y = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  const f = y > 216 / 24389 ? Math.cbrt(y) : (24389 / 27 * y + 16) / 116;
  return Math.min(100, Math.max(0, 116 * f - 16));
}
