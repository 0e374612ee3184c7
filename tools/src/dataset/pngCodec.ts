/**
 * PNG encoding and decoding of RGB images.
 *
 * Encoding uses Node's zlib (native, ~5× faster than a JS deflate) with fixed settings and the "Up" row
 * filter, so the same pixels always give the same bytes with a given Node/zlib build. Data-set hashes are
 * taken over pixels, not PNG bytes, so they do not depend on the zlib build.
 */
import { deflateSync } from "node:zlib";
import { decode } from "fast-png";

const CrcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function Crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CrcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function Chunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, Crc32(chunk, 4, 8 + data.length));
  return chunk;
}

/** Encodes `width×height×channels` 8-bit pixels (3 = RGB, 4 = RGBA) as a PNG, deterministically. */
export function EncodePng(pixels: Uint8Array, width: number, height: number, channels: 3 | 4 = 3): Uint8Array {
  if (pixels.length !== width * height * channels) throw new Error(`EncodePng: ${pixels.length} bytes for ${width}×${height}×${channels}`);
  const stride = width * channels;
  const filtered = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const out = y * (stride + 1);
    const row = y * stride;
    if (y === 0) {
      filtered[out] = 0; // None
      filtered.set(pixels.subarray(row, row + stride), out + 1);
    } else {
      filtered[out] = 2; // Up: flat cartoon regions become runs of zeros
      for (let x = 0; x < stride; x++) filtered[out + 1 + x] = (pixels[row + x] - pixels[row - stride + x]) & 0xff;
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = channels === 3 ? 2 : 6; // colour type: RGB / RGBA
  const idat = deflateSync(filtered, { level: 6, memLevel: 8, strategy: 0, windowBits: 15 });
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Chunk("IHDR", header),
    Chunk("IDAT", new Uint8Array(idat.buffer, idat.byteOffset, idat.byteLength)),
    Chunk("IEND", new Uint8Array(0)),
  ];
  const png = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    png.set(part, offset);
    offset += part.length;
  }
  return png;
}

/** Decodes a PNG into 8-bit RGB (alpha composited on black is not needed: data-set PNGs are RGB). */
export function DecodePngRgb(bytes: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  const png = decode(bytes);
  if (png.depth !== 8 || png.palette) throw new Error(`unsupported PNG (depth ${png.depth}${png.palette ? ", palette" : ""})`);
  const { width, height, channels } = png;
  const data = png.data as Uint8Array;
  if (channels === 3) return { width, height, rgb: new Uint8Array(data.buffer, data.byteOffset, width * height * 3) };
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const gray = channels < 3;
    rgb[p * 3] = data[s];
    rgb[p * 3 + 1] = data[gray ? s : s + 1];
    rgb[p * 3 + 2] = data[gray ? s : s + 2];
  }
  return { width, height, rgb };
}
