/**
 * PNG encoding with provenance text chunks, and reading them back.
 *
 * Pixels are encoded by fast-png (pure JS, fixed zlib level, no timestamps), so the same RGBA bytes and the same
 * text always give the same file, byte for byte, on every platform. fast-png only writes Latin-1 `tEXt` chunks
 * after the image data; we write our own chunks right after `IHDR` instead (so a streaming reader sees the
 * provenance first) and use `iTXt` (UTF-8) for values that are not Latin-1, e.g. a model named in Cyrillic.
 */
import { inflateSync } from "node:zlib";
import { decode, encode } from "fast-png";

/** An 8-bit RGBA image, rows top to bottom, 4 bytes per pixel. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Options of {@link EncodePngWithText}. */
export interface EncodePngOptions {
  /** zlib level 0..9 (default 6). Part of the byte-exact output: keep it fixed for reproducible files. */
  readonly compressionLevel?: number;
  /** Drop the alpha channel when every pixel is opaque (default true): smaller files, same picture. */
  readonly dropOpaqueAlpha?: boolean;
}

const Signature = [137, 80, 78, 71, 13, 10, 26, 10];

let crcTable: Uint32Array | undefined;
/** CRC-32 (ISO 3309, as PNG) of `bytes`. */
export function Crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const latin1 = /^[\u0000-\u00ff]*$/;
const utf8Encoder = new TextEncoder();

/** Throws unless `keyword` is a valid PNG text keyword (1-79 printable Latin-1 characters, no edge or double spaces). */
export function AssertPngKeyword(keyword: string): void {
  if (keyword.length < 1 || keyword.length > 79) throw new RangeError(`PNG text keyword "${keyword}": expected 1-79 characters`);
  if (!/^[\u0020-\u007e\u00a1-\u00ff]+$/.test(keyword) || /^ | $| {2}/.test(keyword)) {
    throw new RangeError(`PNG text keyword "${keyword}": expected printable Latin-1 without leading, trailing or double spaces`);
  }
}

function Latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function Chunk(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length);
  out.set(Latin1Bytes(type), 4);
  out.set(payload, 8);
  view.setUint32(8 + payload.length, Crc32(out.subarray(4, 8 + payload.length)));
  return out;
}

/** One text chunk: `tEXt` when keyword and value are Latin-1 without NUL, else uncompressed `iTXt` (UTF-8). */
export function EncodePngTextChunk(keyword: string, value: string): Uint8Array {
  AssertPngKeyword(keyword);
  const key = Latin1Bytes(keyword);
  if (latin1.test(value) && !value.includes("\u0000")) {
    const text = Latin1Bytes(value);
    const payload = new Uint8Array(key.length + 1 + text.length);
    payload.set(key, 0);
    payload.set(text, key.length + 1);
    return Chunk("tEXt", payload);
  }
  // iTXt: keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, text.
  const text = utf8Encoder.encode(value);
  const payload = new Uint8Array(key.length + 5 + text.length);
  payload.set(key, 0);
  payload.set(text, key.length + 5);
  return Chunk("iTXt", payload);
}

/** Inserts text chunks right after `IHDR` of an encoded PNG, in the order of `text`'s keys. */
export function InsertPngText(png: Uint8Array, text: Readonly<Record<string, string>>): Uint8Array {
  const ihdrEnd = 8 + 12 + 13;
  if (png.length < ihdrEnd || !Signature.every((b, i) => png[i] === b) || String.fromCharCode(...png.subarray(12, 16)) !== "IHDR") {
    throw new Error("not a PNG file (no signature and IHDR chunk)");
  }
  const chunks = Object.entries(text).map(([keyword, value]) => EncodePngTextChunk(keyword, value));
  const out = new Uint8Array(png.length + chunks.reduce((sum, c) => sum + c.length, 0));
  out.set(png.subarray(0, ihdrEnd), 0);
  let offset = ihdrEnd;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  out.set(png.subarray(ihdrEnd), offset);
  return out;
}

/**
 * Encodes an RGBA8 image as PNG with text chunks. Deterministic: the same pixels, text and options give the
 * same bytes.
 */
export function EncodePngWithText(image: RgbaImage, text: Readonly<Record<string, string>> = {}, options: EncodePngOptions = {}): Uint8Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) throw new RangeError(`EncodePngWithText: expected ${width * height * 4} RGBA bytes for ${width}x${height}, got ${data.length}`);
  const level = options.compressionLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`EncodePngWithText: compressionLevel must be an integer in 0..9, got ${level}`);
  let pixels: Uint8Array = data;
  let channels = 4;
  if (options.dropOpaqueAlpha ?? true) {
    let opaque = true;
    for (let i = 3; i < data.length; i += 4) {
      if (data[i] !== 255) {
        opaque = false;
        break;
      }
    }
    if (opaque) {
      channels = 3;
      pixels = new Uint8Array(width * height * 3);
      for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
        pixels[j] = data[i];
        pixels[j + 1] = data[i + 1];
        pixels[j + 2] = data[i + 2];
      }
    }
  }
  const png = encode({ width, height, data: pixels, channels, depth: 8 }, { zlib: { level: level as 0 } });
  return InsertPngText(png, text);
}

/** Decodes a PNG to RGBA8 (any PNG fast-png reads; 16-bit samples are reduced to their high byte). */
export function DecodePngRgba(png: Uint8Array): RgbaImage {
  const decoded = decode(png);
  const { width, height, channels } = decoded;
  if (decoded.palette) throw new Error("DecodePngRgba: palette images are not supported");
  const source = decoded.data;
  const shift = decoded.depth === 16 ? 8 : 0;
  if (decoded.depth !== 8 && decoded.depth !== 16) throw new Error(`DecodePngRgba: bit depth ${decoded.depth} is not supported`);
  const out = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const gray = channels <= 2;
    out[p * 4] = source[s] >> shift;
    out[p * 4 + 1] = source[gray ? s : s + 1] >> shift;
    out[p * 4 + 2] = source[gray ? s : s + 2] >> shift;
    out[p * 4 + 3] = channels === 2 || channels === 4 ? source[s + channels - 1] >> shift : 255;
  }
  return { width, height, data: out };
}

const latin1Decoder = new TextDecoder("latin1");
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads all text chunks (`tEXt`, `zTXt`, `iTXt`) of a PNG, in file order. Checks the signature and every
 * chunk's CRC.
 * @throws Error when the bytes are not a well-formed PNG.
 */
export function ReadPngText(png: Uint8Array): Record<string, string> {
  if (png.length < 8 || !Signature.every((b, i) => png[i] === b)) throw new Error("not a PNG file (bad signature)");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const text: Record<string, string> = {};
  let offset = 8;
  while (offset + 12 <= png.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    const end = offset + 12 + length;
    if (end > png.length) throw new Error(`PNG chunk ${type} at byte ${offset} runs past the end of the file`);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (Crc32(png.subarray(offset + 4, offset + 8 + length)) !== view.getUint32(offset + 8 + length)) {
      throw new Error(`PNG chunk ${type} at byte ${offset} has a bad CRC`);
    }
    if (type === "tEXt" || type === "zTXt" || type === "iTXt") {
      const nul = data.indexOf(0);
      if (nul < 1) throw new Error(`PNG ${type} chunk at byte ${offset} has no keyword`);
      const keyword = latin1Decoder.decode(data.subarray(0, nul));
      if (type === "tEXt") {
        text[keyword] = latin1Decoder.decode(data.subarray(nul + 1));
      } else if (type === "zTXt") {
        text[keyword] = latin1Decoder.decode(inflateSync(data.subarray(nul + 2)));
      } else {
        const compressed = data[nul + 1] === 1;
        const languageEnd = data.indexOf(0, nul + 3);
        const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
        if (translatedEnd < 0) throw new Error(`PNG iTXt chunk at byte ${offset} is malformed`);
        const body = data.subarray(translatedEnd + 1);
        text[keyword] = utf8Decoder.decode(compressed ? inflateSync(body) : body);
      }
    }
    if (type === "IEND") return text;
    offset = end;
  }
  throw new Error("PNG file ends without an IEND chunk");
}
