import { decode } from "fast-png";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { Crc32, DecodePngRgba, EncodePngTextChunk, EncodePngWithText, InsertPngText, ReadPngText, type RgbaImage } from "../../src/bake/pngProvenance.js";
import { MakeBakeProvenance, ProvenanceKeys, ProvenanceToPngText, ReadBakeProvenance, type BakeParameters } from "../../src/bake/bakeProvenance.js";
import { TestMetadata } from "./cliTestData.js";

function Gradient(width: number, height: number, alpha = 255): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data.set([x * 16, y * 16, (x * y) & 255, alpha], i);
    }
  }
  return { width, height, data };
}

function ChunkTypes(png: Uint8Array): string[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const types: string[] = [];
  for (let offset = 8; offset < png.length; offset += 12 + view.getUint32(offset)) {
    types.push(String.fromCharCode(...png.subarray(offset + 4, offset + 8)));
  }
  return types;
}

describe("PNG with text chunks", () => {
  it("computes the PNG CRC-32", () => {
    expect(Crc32(new TextEncoder().encode("IEND"))).toBe(0xae426082);
    expect(Crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("round-trips pixels and text, Latin-1 as tEXt and anything else as iTXt", () => {
    const image = Gradient(16, 12);
    const text = { Software: "npc-faces 0.1.0", "npc-faces:seed": "42", Title: "Gesicht – 顔 😀", Comment: "café" };
    const png = EncodePngWithText(image, text);
    expect(ReadPngText(png)).toEqual(text);
    expect(Object.keys(ReadPngText(png))).toEqual(Object.keys(text));
    expect(ChunkTypes(png)).toEqual(["IHDR", "tEXt", "tEXt", "iTXt", "tEXt", "IDAT", "IEND"]);
    expect(DecodePngRgba(png)).toEqual(image);
    // Another decoder agrees (it checks CRCs) and sees the Latin-1 chunks.
    const decoded = decode(png, { checkCrc: true });
    expect(decoded.text).toMatchObject({ Software: "npc-faces 0.1.0", Comment: "café" });
  });

  it("is byte-deterministic", () => {
    const a = EncodePngWithText(Gradient(9, 7), { Software: "x", Description: "y" });
    const b = EncodePngWithText(Gradient(9, 7), { Software: "x", Description: "y" });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it("writes opaque images as RGB and keeps real alpha", async () => {
    const opaque = EncodePngWithText(Gradient(4, 4));
    expect(decode(opaque).channels).toBe(3);
    const translucent = EncodePngWithText(Gradient(4, 4, 128));
    expect(decode(translucent).channels).toBe(4);
    expect(DecodePngRgba(translucent)).toEqual(Gradient(4, 4, 128));
    expect(decode(EncodePngWithText(Gradient(4, 4), {}, { dropOpaqueAlpha: false })).channels).toBe(4);
    // libvips/libpng read our files.
    const meta = await sharp(Buffer.from(opaque)).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([4, 4, "png"]);
  });

  it("rejects bad keywords, sizes and files", () => {
    expect(() => EncodePngTextChunk("", "x")).toThrow(/1-79 characters/);
    expect(() => EncodePngTextChunk("k".repeat(80), "x")).toThrow(/1-79 characters/);
    expect(() => EncodePngTextChunk(" lead", "x")).toThrow(/leading, trailing or double spaces/);
    expect(() => EncodePngTextChunk("tab\tkey", "x")).toThrow(/printable Latin-1/);
    expect(() => EncodePngWithText({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(/expected 16 RGBA bytes/);
    expect(() => InsertPngText(new Uint8Array(40), {})).toThrow(/not a PNG/);
    expect(() => ReadPngText(new Uint8Array([1, 2, 3]))).toThrow(/not a PNG/);
    const png = EncodePngWithText(Gradient(4, 4), { Software: "x" });
    const corrupt = png.slice();
    corrupt[40] ^= 1; // inside the tEXt chunk
    expect(() => ReadPngText(corrupt)).toThrow(/bad CRC/);
    expect(() => ReadPngText(png.subarray(0, png.length - 12))).toThrow(/without an IEND/);
  });

  it("stores and reads back a bake provenance record", () => {
    const params: BakeParameters = { psi: 0.5, noiseStrength: 1, mixSeed: 3, mix: 1, crossover: 2, controls: { smile: 1, age: 0.5 }, size: 16, filter: null };
    const record = MakeBakeProvenance("npc-faces 9.9.9", "canonical", TestMetadata(), "ab".repeat(32), 42, params);
    const text = ProvenanceToPngText(record);
    expect(Object.keys(text)).toEqual(Object.values(ProvenanceKeys));
    const png = EncodePngWithText(Gradient(4, 4), text);
    expect(ReadBakeProvenance(png)).toEqual(record);
    expect(ReadPngText(png)[ProvenanceKeys.seed]).toBe("42");
    expect(ReadPngText(png)[ProvenanceKeys.description]).toMatch(/not a photograph of a real person/);
    expect(ReadBakeProvenance(EncodePngWithText(Gradient(4, 4)))).toBeUndefined();
  });
});
