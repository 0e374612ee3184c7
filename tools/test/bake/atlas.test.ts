/**
 * Atlases: grid layout and Babylon UVs, edge extrusion, and a real bake whose atlas pixels equal the face PNGs
 * (also when sampled through the UV transform with invertY).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TinyModelAsync } from "../../../runtime/test/testModels.js";
import { AtlasError, ParseAtlasSize, PlanAtlas, RenderAtlasPage, type AtlasDocument } from "../../src/bake/atlasPacker.js";
import { BakeManifestFileAsync } from "../../src/bake/manifestBake.js";
import { DecodePngRgba, type RgbaImage } from "../../src/bake/pngProvenance.js";
import { FileSha256Async, TestNpcs, WriteManifestAsync } from "./bakeTestUtils.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-atlas-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("atlas layout", () => {
  it("parses WxH and refuses pages too small for one face with its gutter", () => {
    expect(ParseAtlasSize("1024x512")).toEqual({ width: 1024, height: 512 });
    expect(() => ParseAtlasSize("1024")).toThrow(AtlasError);
    expect(() => ParseAtlasSize("0x64")).toThrow(/out of range/);
    expect(() => PlanAtlas({ width: 19, height: 100 }, 16, ["a"])).toThrow(/too small for one 16x16 face with its 2 px gutter \(needs at least 20x20\)/);
  });

  it("packs row-major on a fixed grid, page after page, with Babylon invertY UVs", () => {
    const ids = Array.from({ length: 7 }, (_, i) => `n${i}`);
    const layout = PlanAtlas({ width: 64, height: 48 }, 16, ids);
    expect([layout.columns, layout.rows, layout.pageCount]).toEqual([3, 2, 2]);
    expect(layout.rects.get("n0")).toEqual({ page: 0, x: 2, y: 2, width: 16, height: 16, uOffset: 2 / 64, vOffset: 1 - 18 / 48, uScale: 16 / 64, vScale: 16 / 48 });
    expect(layout.rects.get("n4")).toMatchObject({ page: 0, x: 22, y: 22, vOffset: 1 - 38 / 48 });
    expect(layout.rects.get("n6")).toMatchObject({ page: 1, x: 2, y: 2 });
  });

  it("repeats each face's edge pixels across the gutter", () => {
    const face: RgbaImage = { width: 2, height: 2, data: new Uint8Array([1, 1, 1, 255, 2, 2, 2, 255, 3, 3, 3, 255, 4, 4, 4, 255]) };
    const layout = PlanAtlas({ width: 6, height: 6 }, 2, ["a"]);
    const page = RenderAtlasPage(layout, 0, new Map([["a", face]]));
    const at = (x: number, y: number): number => page.data[(y * 6 + x) * 4];
    const rows = Array.from({ length: 6 }, (_, y) => Array.from({ length: 6 }, (_, x) => at(x, y)));
    expect(rows).toEqual([
      [1, 1, 1, 2, 2, 2],
      [1, 1, 1, 2, 2, 2],
      [1, 1, 1, 2, 2, 2],
      [3, 3, 3, 4, 4, 4],
      [3, 3, 3, 4, 4, 4],
      [3, 3, 3, 4, 4, 4],
    ]);
  });
});

describe("atlas of a real bake", () => {
  it("holds every face's pixels at its rectangle, and the UV transform samples the right pixels", async () => {
    const model = join(dir, "tiny.onnx");
    await writeFile(model, await TinyModelAsync());
    const manifest = await WriteManifestAsync(join(dir, "npcs.json"), await FileSha256Async(model), TestNpcs(8));
    const out = join(dir, "out");
    const summary = await BakeManifestFileAsync({ manifest, model, outDir: out, atlas: { width: 64, height: 48 }, workers: 1 });
    expect(summary.baked).toBe(8);
    const doc = JSON.parse(await readFile(join(out, "atlas.json"), "utf8")) as AtlasDocument;
    expect(doc).toMatchObject({ format: "npc-faces-atlas", faceSize: 16, gutter: 2, uvConvention: "babylon-invertY" });
    expect(doc.pages.map((p) => p.file)).toEqual(["atlas-0.png", "atlas-1.png"]);
    const pages = await Promise.all(doc.pages.map(async (p) => DecodePngRgba(new Uint8Array(await readFile(join(out, p.file))))));
    for (const [id, rect] of Object.entries(doc.faces)) {
      const face = DecodePngRgba(new Uint8Array(await readFile(join(out, `${id}.png`))));
      const page = pages[rect.page];
      const rgb = (img: RgbaImage, x: number, y: number): number[] => {
        const o = (y * img.width + x) * 4;
        return [img.data[o], img.data[o + 1], img.data[o + 2]];
      };
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) expect(rgb(page, rect.x + x, rect.y + y)).toEqual(rgb(face, x, y));
      expect(rgb(page, rect.x - 2, rect.y - 1)).toEqual(rgb(face, 0, 0)); // gutter = edge
      // Mesh uv (0,0) is the face's bottom-left texel centre region: uv' = uv * scale + offset, invertY => row = (1 - v') * H.
      const u = 0.5 / 16;
      const v = 0.5 / 16;
      const px = Math.floor((u * rect.uScale + rect.uOffset) * page.width);
      const py = Math.floor((1 - (v * rect.vScale + rect.vOffset)) * page.height);
      expect(rgb(page, px, py)).toEqual(rgb(face, 0, 15));
    }
  });
});
