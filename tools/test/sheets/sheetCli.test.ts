/**
 * `npc-faces sheet`: the built CLI draws sheets of a tiny untrained model; the PNGs are decoded with sharp and
 * every tile is compared, byte for byte, with the face the runtime generates for that request in this process.
 * Tile positions are computed here from the documented geometry (gap around the edge and between tiles,
 * blocks max(2 x gap, tile / 4) apart), not with the code under test.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaceGenerator, FaceRequest } from "@npc-faces/runtime";
import { DefaultModelPath, LoadFaceGeneratorFileAsync } from "@npc-faces/runtime/node";
import { ReadPngText } from "../../src/bake/pngProvenance.js";
import type { SheetLegend } from "../../src/sheets/sheetLegend.js";
import { TinyModelAsync } from "../../../runtime/test/testModels.js";
import { ExportTinyModelAsync, MapLimitAsync, RunCliAsync, type CliResult } from "../cli/cliTestData.js";

let dir: string;
let model: string;
let modelSha256: string;
let generator: FaceGenerator;
/** The tiny export: 16x16, 6 style layers, controls direction_0..3 (-3..3), default psi 0.7, noise strength 1. */
const Res = 16;
const Grey = [128, 128, 128, 255];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-sheet-"));
  model = join(dir, "tiny.onnx");
  await ExportTinyModelAsync(model);
  modelSha256 = createHash("sha256").update(await readFile(model)).digest("hex");
  generator = await LoadFaceGeneratorFileAsync(model);
});
afterAll(async () => {
  await generator?.disposeAsync();
  await rm(dir, { recursive: true, force: true });
});

interface Decoded {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

async function DecodeAsync(file: string): Promise<Decoded> {
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(4);
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** The tile x tile RGBA pixels at (x0, y0). */
function Crop(image: Decoded, x0: number, y0: number, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) out.set(image.data.subarray(((y0 + y) * image.width + x0) * 4, ((y0 + y) * image.width + x0 + size) * 4), y * size * 4);
  return out;
}

/** The face of `request`, magnified `scale` times by repeating pixels. */
async function ExpectedTileAsync(request: FaceRequest, scale = 1): Promise<Uint8Array> {
  const [face] = await generator.generateAsync([request]);
  const size = face.width * scale;
  const out = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) out.set(face.data.subarray((Math.floor(y / scale) * face.width + Math.floor(x / scale)) * 4, (Math.floor(y / scale) * face.width + Math.floor(x / scale)) * 4 + 4), (y * size + x) * 4);
  }
  return out;
}

function Same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function AllGrey(pixels: Uint8Array): boolean {
  for (let i = 0; i < pixels.length; i++) if (pixels[i] !== Grey[i % 4]) return false;
  return true;
}

/** Every pixel outside the listed tiles is the gap grey. */
function ExpectGreyOutside(image: Decoded, tiles: readonly [number, number][], size: number): void {
  const inTile = new Uint8Array(image.width * image.height);
  for (const [x0, y0] of tiles) for (let y = y0; y < y0 + size; y++) inTile.fill(1, y * image.width + x0, y * image.width + x0 + size);
  let wrong = 0;
  for (let p = 0; p < inTile.length; p++) {
    if (!inTile[p] && !AllGrey(image.data.subarray(p * 4, p * 4 + 4))) wrong++;
  }
  expect(wrong).toBe(0);
}

async function SheetAsync(kind: string, out: string, args: readonly string[], modelPath = model): Promise<CliResult> {
  const result = await RunCliAsync(["sheet", kind, "--model", modelPath, "--out", out, ...args]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return result;
}

async function ReadLegendAsync(png: string): Promise<SheetLegend> {
  const legend = JSON.parse(await readFile(png.replace(/\.png$/, ".json"), "utf8")) as SheetLegend;
  expect(JSON.parse(ReadPngText(new Uint8Array(await readFile(png)))["npc-faces:sheet"])).toEqual(legend);
  return legend;
}

describe("npc-faces sheet seeds", () => {
  it("lays seeds out in reading order, each tile the runtime's face, grey everywhere else, with a legend", async () => {
    const out = join(dir, "seeds", "partial.png");
    const result = await SheetAsync("seeds", out, ["--seeds", "3-12", "--columns", "4", "--psi", "0.8"]);
    const image = await DecodeAsync(out);
    // 4 columns x 3 rows of 16 px with 2 px gaps and edges.
    expect([image.width, image.height]).toEqual([2 + 4 * 18, 2 + 3 * 18]);
    const tiles: [number, number][] = [];
    for (let i = 0; i < 10; i++) {
      const [r, c] = [Math.floor(i / 4), i % 4];
      const [x, y] = [2 + c * 18, 2 + r * 18];
      tiles.push([x, y]);
      expect(Same(Crop(image, x, y, Res), await ExpectedTileAsync({ seed: 3 + i, psi: 0.8 })), `seed ${3 + i}`).toBe(true);
    }
    // The two tiles after the last seed are empty (grey), as are the gaps.
    ExpectGreyOutside(image, tiles, Res);
    expect(Same(Crop(image, 2, 2, Res), Crop(image, 2 + 18, 2, Res))).toBe(false);

    const legend = await ReadLegendAsync(out);
    expect(legend).toMatchObject({ format: "npc-faces-sheet", version: 1, kind: "seeds", model: { name: "tiny-untrained", sha256: modelSha256, resolution: 16, trained: false } });
    expect(legend.parameters).toEqual({ psi: 0.8, noiseStrength: 1, labels: {} });
    expect(legend.image).toMatchObject({ width: 74, height: 56, tile: 16, scale: 1, gap: 2, background: "#808080" });
    expect(legend.blocks).toHaveLength(1);
    expect(legend.blocks[0].rows).toEqual([{ seeds: "3-6" }, { seeds: "7-10" }, { seeds: "11-12" }]);
    expect(legend.blocks[0].cells[2]).toEqual([{ seed: 11, psi: 0.8, noiseStrength: 1 }, { seed: 12, psi: 0.8, noiseStrength: 1 }, null, null]);
    expect(result.stdout).toContain(`sha256 ${modelSha256}`);
    expect(result.stdout).toMatch(/^sheet seeds: .*partial\.png \(74x56, .*\) \+ .*partial\.json; 10 tiles, 10 faces generated/);
  });

  it("defaults to seeds 0-63, 8 per row, psi 1; the bytes do not depend on --batch", async () => {
    const [a, b] = [join(dir, "seeds", "default.png"), join(dir, "seeds", "batch1.png")];
    await Promise.all([SheetAsync("seeds", a, []), SheetAsync("seeds", b, ["--batch", "1"])]);
    const image = await DecodeAsync(a);
    expect([image.width, image.height]).toEqual([2 + 8 * 18, 2 + 8 * 18]);
    for (const [seed, r, c] of [[0, 0, 0], [13, 1, 5], [63, 7, 7]]) {
      expect(Same(Crop(image, 2 + c * 18, 2 + r * 18, Res), await ExpectedTileAsync({ seed, psi: 1 })), `seed ${seed}`).toBe(true);
    }
    expect(Same(await readFile(a), await readFile(b))).toBe(true);
  });
});

describe("npc-faces sheet controls", () => {
  it("one block per control in the order given, columns from min to max, rows the seeds", async () => {
    const out = join(dir, "controls.png");
    await SheetAsync("controls", out, ["--controls", "direction_1,direction_0", "--seeds", "2,5", "--steps", "3", "--scale", "2"]);
    const image = await DecodeAsync(out);
    // Tiles 32 px; blocks of 2 rows (2 * 34 - 2 = 66 px) 8 px apart (32 / 4).
    expect([image.width, image.height]).toEqual([2 + 3 * 34, 2 + 66 + 8 + 66 + 2]);
    const legend = await ReadLegendAsync(out);
    expect(legend.blocks.map((b) => b.y)).toEqual([2, 76]);
    const tiles: [number, number][] = [];
    for (const [b, name] of [[0, "direction_1"], [1, "direction_0"]] as const) {
      expect(legend.blocks[b].columns).toEqual([{ [name]: -3 }, { [name]: 0 }, { [name]: 3 }]);
      for (const [r, seed] of [[0, 2], [1, 5]]) {
        const row: Uint8Array[] = [];
        for (const [c, value] of [[0, -3], [1, 0], [2, 3]]) {
          const [x, y] = [2 + c * 34, 2 + b * 74 + r * 34];
          tiles.push([x, y]);
          const tile = Crop(image, x, y, 32);
          expect(Same(tile, await ExpectedTileAsync({ seed, psi: 1, controls: { [name]: value } }, 2)), `${name}=${value} seed ${seed}`).toBe(true);
          row.push(tile);
        }
        // The control does something, and the middle column is the control's default.
        expect(Same(row[0], row[2])).toBe(false);
        expect(Same(row[1], await ExpectedTileAsync({ seed, psi: 1 }, 2))).toBe(true);
      }
    }
    ExpectGreyOutside(image, tiles, 32);
  });

  it("defaults to every control, seeds 0-3, 7 steps", async () => {
    const out = join(dir, "controls-default.png");
    await SheetAsync("controls", out, []);
    const legend = await ReadLegendAsync(out);
    expect(legend.blocks.map((b) => Object.keys(b.columns[0])[0])).toEqual(["direction_0", "direction_1", "direction_2", "direction_3"]);
    expect(legend.blocks[3].columns.map((c) => c.direction_3)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(legend.blocks[0].rows).toEqual([{ seed: 0 }, { seed: 1 }, { seed: 2 }, { seed: 3 }]);
    const image = await DecodeAsync(out);
    expect([image.width, image.height]).toEqual([2 + 7 * 18, 2 + 4 * (4 * 18 - 2) + 3 * 4 + 2]);
    // Block 4 (direction_3), row 3 (seed 3), last column (max).
    expect(Same(Crop(image, 2 + 6 * 18, 2 + 3 * (4 * 18 - 2 + 4) + 3 * 18, Res), await ExpectedTileAsync({ seed: 3, psi: 1, controls: { direction_3: 3 } }))).toBe(true);
  });
});

describe("npc-faces sheet truncation", () => {
  it("columns are psi values; psi 1 is plain generation, psi 0 the same average face for every seed", async () => {
    const out = join(dir, "truncation.png");
    await SheetAsync("truncation", out, ["--seeds", "0,7", "--psi", "1,0.5,0"]);
    const image = await DecodeAsync(out);
    expect([image.width, image.height]).toEqual([2 + 3 * 18, 2 + 2 * 18]);
    const tile = (r: number, c: number): Uint8Array => Crop(image, 2 + c * 18, 2 + r * 18, Res);
    for (const [r, seed] of [[0, 0], [1, 7]]) {
      expect(Same(tile(r, 0), await ExpectedTileAsync({ seed, psi: 1 })), `seed ${seed} psi 1`).toBe(true);
      expect(Same(tile(r, 1), await ExpectedTileAsync({ seed, psi: 0.5 })), `seed ${seed} psi 0.5`).toBe(true);
      expect(Same(tile(r, 0), tile(r, 1))).toBe(false);
    }
    expect(Same(tile(0, 0), tile(1, 0))).toBe(false);
    expect(Same(tile(0, 2), tile(1, 2))).toBe(true);
    const legend = await ReadLegendAsync(out);
    expect(legend.parameters.psi).toBeNull();
    expect(legend.blocks[0].columns).toEqual([{ psi: 1 }, { psi: 0.5 }, { psi: 0 }]);
  });
});

describe("npc-faces sheet mixing", () => {
  it("top row and left column are the parents; each cell takes coarse layers from its row seed and the rest from its column seed", async () => {
    const out = join(dir, "mixing.png");
    await SheetAsync("mixing", out, ["--rows", "1,2", "--columns", "3,4,5", "--from-layer", "2,4"]);
    const image = await DecodeAsync(out);
    // Two blocks of 3 rows x 4 columns, 4 px apart.
    const blockHeight = 3 * 18 - 2;
    expect([image.width, image.height]).toEqual([2 + 4 * 18, 2 + blockHeight + 4 + blockHeight + 2]);
    const tile = (b: number, r: number, c: number): Uint8Array => Crop(image, 2 + c * 18, 2 + b * (blockHeight + 4) + r * 18, Res);
    const tiles: [number, number][] = [];
    for (const [b, layer] of [[0, 2], [1, 4]]) {
      for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) if (r + c > 0) tiles.push([2 + c * 18, 2 + b * (blockHeight + 4) + r * 18]);
      for (const [c, seed] of [[1, 3], [2, 4], [3, 5]]) expect(Same(tile(b, 0, c), await ExpectedTileAsync({ seed, psi: 1 })), `column seed ${seed}`).toBe(true);
      for (const [r, seed] of [[1, 1], [2, 2]]) expect(Same(tile(b, r, 0), await ExpectedTileAsync({ seed, psi: 1 })), `row seed ${seed}`).toBe(true);
      for (const [r, row] of [[1, 1], [2, 2]]) {
        for (const [c, column] of [[1, 3], [2, 4], [3, 5]]) {
          const cell = tile(b, r, c);
          const what = `layer ${layer}, row ${row}, column ${column}`;
          expect(Same(cell, await ExpectedTileAsync({ seed: row, mixSeed: column, mixCrossover: layer, psi: 1 })), what).toBe(true);
          expect(Same(cell, tile(b, r, 0)), `${what} vs its row seed`).toBe(false);
          expect(Same(cell, tile(b, 0, c)), `${what} vs its column seed`).toBe(false);
          // The split goes this way round: the other way round is a different face.
          expect(Same(cell, await ExpectedTileAsync({ seed: column, mixSeed: row, mixCrossover: layer, psi: 1 })), `${what} swapped`).toBe(false);
        }
      }
    }
    expect(Same(tile(0, 1, 1), tile(1, 1, 1))).toBe(false);
    ExpectGreyOutside(image, tiles, Res);
    const legend = await ReadLegendAsync(out);
    expect(legend.blocks[1].cells[2][3]).toEqual({ seed: 2, psi: 1, noiseStrength: 1, mixSeed: 5, mixCrossover: 4 });
    expect(legend.blocks[0].cells[0][0]).toBeNull();
  });

  it("defaults to rows 0-4, columns 5-9 and the crossover where 16x16 starts (layer 3 of the tiny model)", async () => {
    const out = join(dir, "mixing-default.png");
    const result = await SheetAsync("mixing", out, []);
    const legend = await ReadLegendAsync(out);
    expect(legend.blocks).toHaveLength(1);
    expect(legend.blocks[0].title).toMatch(/^mixing from layer 3: layers 0-2 from the row seed, 3-5 from the column seed/);
    expect(legend.blocks[0].rows.slice(1)).toEqual([0, 1, 2, 3, 4].map((seed) => ({ seed })));
    expect(legend.blocks[0].columns.slice(1)).toEqual([5, 6, 7, 8, 9].map((seed) => ({ seed })));
    const image = await DecodeAsync(out);
    expect([image.width, image.height]).toEqual([2 + 6 * 18, 2 + 6 * 18]);
    expect(Same(Crop(image, 2 + 5 * 18, 2 + 5 * 18, Res), await ExpectedTileAsync({ seed: 4, mixSeed: 9, mixCrossover: 3, psi: 1 }))).toBe(true);
    expect(result.stdout).toContain("mixing from layer 3");
  });
});

describe("npc-faces sheet with a conditional model", () => {
  it("--label sets the label of every face", async () => {
    const conditional = join(dir, "conditional.onnx");
    await writeFile(conditional, await TinyModelAsync({ conditional: true }));
    const out = join(dir, "labels.png");
    const result = await SheetAsync("seeds", out, ["--seeds", "0-1", "--label", "hair=blond"], conditional);
    expect(result.stdout).toContain("labels hair=blond, glasses as the model defaults them (drawn per seed, or its default frequencies)");
    const image = await DecodeAsync(out);
    const own = await LoadFaceGeneratorFileAsync(conditional);
    try {
      const [blond, plain] = await own.generateAsync([{ seed: 1, psi: 1, labels: { hair: "blond" } }, { seed: 1, psi: 1 }]);
      const tile = Crop(image, 2 + 18, 2, Res);
      expect(Same(tile, blond.data)).toBe(true);
      expect(Same(tile, plain.data)).toBe(false);
    } finally {
      await own.disposeAsync();
    }
    const bad = await RunCliAsync(["sheet", "seeds", "--model", conditional, "--out", join(dir, "bad-label", "s.png"), "--label", "hair=green"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('npc-faces: error: --label: label "hair": unknown value "green" (known: black, brown, blond)\n');
    expect(existsSync(join(dir, "bad-label"))).toBe(false);
  }, 300_000); // builds a conditional model with the trainer (tfjs)
});

describe("npc-faces sheet without --model", () => {
  it("uses the bundled default model (or names its missing file)", async () => {
    const out = join(dir, "default-model", "sheet.png");
    const result = await RunCliAsync(["sheet", "seeds", "--seeds", "0-1", "--out", out]);
    const path = DefaultModelPath();
    // default.onnx is not committed while the final model trains: both cases are the contract.
    if (existsSync(path)) {
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect((await ReadLegendAsync(out)).model.sha256).toBe(createHash("sha256").update(await readFile(path)).digest("hex"));
    } else {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`npc-faces: error: the default model ${path}: cannot read the model file (no such file)\n`);
      expect(existsSync(join(dir, "default-model"))).toBe(false);
    }
  });
});

describe("npc-faces sheet labels", () => {
  it("draws a row per seed and a column per value of each categorical label, each tile the runtime's face", async () => {
    // The bundled default model is conditional; the sheet sweeps its categorical attribute gender (male, female).
    const defaultModel = await LoadFaceGeneratorFileAsync(DefaultModelPath());
    try {
      const size = defaultModel.metadata.resolution;
      const out = join(dir, "labels", "gender.png");
      await SheetAsync("labels", out, ["--seeds", "4,9", "--attributes", "gender", "--label", "glasses=glasses"], DefaultModelPath());
      const image = await DecodeAsync(out);
      expect([image.width, image.height]).toEqual([2 + 2 * (size + 2), 2 + 2 * (size + 2)]);
      const tiles: [number, number][] = [];
      const faces: Uint8Array[] = [];
      for (const [r, seed] of [4, 9].entries()) {
        for (const [c, gender] of ["male", "female"].entries()) {
          const [x, y] = [2 + c * (size + 2), 2 + r * (size + 2)];
          tiles.push([x, y]);
          const [face] = await defaultModel.generateAsync([{ seed, psi: 1, labels: { glasses: "glasses", gender } }]);
          faces.push(Crop(image, x, y, size));
          expect(Same(faces.at(-1)!, face.data), `seed ${seed} ${gender}`).toBe(true);
        }
      }
      ExpectGreyOutside(image, tiles, size);
      // The label changes the face (male vs female of one seed differ).
      expect(Same(faces[0], faces[1])).toBe(false);
      const legend = await ReadLegendAsync(out);
      expect(legend.kind).toBe("labels");
      expect(legend.parameters.labels).toEqual({ glasses: "glasses" });
      expect(legend.blocks.map((b) => b.title)).toEqual(["label gender (2 values)"]);
      expect(legend.blocks[0].rows).toEqual([{ seed: 4 }, { seed: 9 }]);
      expect(legend.blocks[0].columns).toEqual([{ gender: "male" }, { gender: "female" }]);
      expect(legend.blocks[0].cells[1][0]).toMatchObject({ seed: 9, psi: 1, labels: { glasses: "glasses", gender: "male" } });
    } finally {
      await defaultModel.disposeAsync();
    }
  });

  it("--by control reaches each value by its label control at its maximum, the seed keeping its own labels", async () => {
    const defaultModel = await LoadFaceGeneratorFileAsync(DefaultModelPath());
    try {
      const size = defaultModel.metadata.resolution;
      const out = join(dir, "labels", "gender-by-control.png");
      await SheetAsync("labels", out, ["--seeds", "4", "--attributes", "gender", "--by", "control"], DefaultModelPath());
      const image = await DecodeAsync(out);
      const faces: Uint8Array[] = [];
      for (const [c, control] of ["label_gender_male", "label_gender_female"].entries()) {
        const [face] = await defaultModel.generateAsync([{ seed: 4, psi: 1, controls: { [control]: 1 } }]);
        faces.push(Crop(image, 2 + c * (size + 2), 2, size));
        expect(Same(faces.at(-1)!, face.data), control).toBe(true);
      }
      expect(Same(faces[0], faces[1])).toBe(false);
      const legend = await ReadLegendAsync(out);
      expect(legend.blocks.map((b) => b.title)).toEqual(["control gender (2 values)"]);
      expect(legend.blocks[0].cells[0][1]).toEqual({ seed: 4, psi: 1, noiseStrength: defaultModel.metadata.defaults.noiseStrength, controls: { label_gender_female: 1 } });
    } finally {
      await defaultModel.disposeAsync();
    }
  });
});

describe("npc-faces sheet with bad input", () => {
  function ExpectFailure(result: CliResult, code: number, message: RegExp, label: string): void {
    expect(result.code, `${label}: ${result.stderr}`).toBe(code);
    const lines = result.stderr.split("\n").filter(Boolean);
    expect(lines, label).toHaveLength(1);
    expect(lines[0], label).toMatch(/^npc-faces: /);
    expect(lines[0], label).toMatch(message);
    expect(result.stdout, label).toBe("");
  }

  it("fails with one line and exit status 2 or 1, writing nothing", async () => {
    const blocker = join(dir, "blocker.txt");
    await writeFile(blocker, "x");
    await mkdir(join(dir, "folder.png"));
    const cases: [string, (out: string) => string[], number, RegExp][] = [
      ["unknown control", (out) => ["controls", "--model", model, "--out", out, "--controls", "direction_0,smile"], 2, /--controls: unknown control "smile" \(model "tiny-untrained" has: direction_0, direction_1, direction_2, direction_3\)/],
      ["control twice", (out) => ["controls", "--model", model, "--out", out, "--controls", "direction_0,direction_0"], 2, /--controls: control "direction_0" is listed twice/],
      ["one step", (out) => ["controls", "--model", model, "--out", out, "--steps", "1"], 2, /--steps.*expected an integer in 2\.\.64, got 1/],
      ["truncation psi out of range", (out) => ["truncation", "--model", model, "--out", out, "--psi", "1,1.5"], 2, /--psi.*item 2: expected a number in 0\.\.1, got 1\.5/],
      ["truncation psi not a number", (out) => ["truncation", "--model", model, "--out", out, "--psi", "1,,0.5"], 2, /--psi.*item 2: expected a finite number/],
      ["seeds psi out of range", (out) => ["seeds", "--model", model, "--out", out, "--psi", "-0.5"], 2, /--psi.*expected a number in 0\.\.1, got -0\.5/],
      ["descending seed range", (out) => ["seeds", "--model", model, "--out", out, "--seeds", "5-2"], 2, /--seeds.*range goes down \(5 > 2\)/],
      ["seed not an integer", (out) => ["truncation", "--model", model, "--out", out, "--seeds", "1,2.5"], 2, /--seeds.*"2\.5": a seed must be an integer/],
      ["bad mixing rows", (out) => ["mixing", "--model", model, "--out", out, "--rows", "a"], 2, /--rows.*"a": expected a seed/],
      ["crossover past the last layer", (out) => ["mixing", "--model", model, "--out", out, "--from-layer", "2,6"], 2, /--from-layer: expected style layers in 1\.\.5 \(model "tiny-untrained" has 6 style layers\), got 6/],
      ["crossover 0", (out) => ["mixing", "--model", model, "--out", out, "--from-layer", "0"], 2, /--from-layer: expected style layers in 1\.\.5/],
      ["label on an unconditional model", (out) => ["seeds", "--model", model, "--out", out, "--label", "hair=red"], 2, /--label: unknown label "hair" \(model "tiny-untrained" has no labels/],
      ["labels sheet of an unconditional model", (out) => ["labels", "--model", model, "--out", out], 2, /--attributes: model "tiny-untrained" is not conditional/],
      ["labels sheet of a numeric label", (out) => ["labels", "--model", DefaultModelPath(), "--out", out, "--attributes", "skin_tone"], 2, /--attributes: "skin_tone" is a numeric label, not categorical: sweep it with the controls sheet/],
      ["labels sheet of an unknown attribute", (out) => ["labels", "--model", DefaultModelPath(), "--out", out, "--attributes", "gender,nose"], 2, /--attributes: unknown attribute "nose" \(model "npc64-default" has: gender, eyes, mouth, hair_style, accessory\)/],
      ["labels sheet reached neither by label nor by control", (out) => ["labels", "--model", DefaultModelPath(), "--out", out, "--by", "slider"], 2, /--by/],
      ["labels sheet sweeping a fixed label", (out) => ["labels", "--model", DefaultModelPath(), "--out", out, "--label", "gender=female"], 2, /--attributes: attribute "gender" is also fixed by --label gender=female/],
      ["too large", (out) => ["seeds", "--model", model, "--out", out, "--seeds", "0-499", "--columns", "500"], 2, /the sheet would be 9002x20 pixels, more than 8192 on a side/],
      ["scale zero", (out) => ["seeds", "--model", model, "--out", out, "--scale", "0"], 2, /--scale.*expected an integer in 1\.\.16/],
      ["out not a .png", (out) => ["seeds", "--model", model, "--out", out.replace(/\.png$/, ".jpg")], 2, /--out: expected a file name ending in \.png/],
      ["missing --out", () => ["seeds", "--model", model], 2, /required option '--out <file\.png>' not specified/],
      ["unknown kind", (out) => ["portraits", "--model", model, "--out", out], 2, /unknown command 'portraits'/],
      ["model missing", (out) => ["seeds", "--model", join(dir, "nope.onnx"), "--out", out], 1, /--model .*nope\.onnx: cannot read the model file \(no such file\)/],
      ["model not ONNX", (out) => ["seeds", "--model", blocker, "--out", out], 1, /--model .*blocker\.txt: not an ONNX model/],
    ];
    const results = await MapLimitAsync(cases, 2, ([, args], i) => RunCliAsync(["sheet", ...args(join(dir, `bad-${i}`, "sheet.png"))]));
    results.forEach((result, i) => {
      const [label, , code, message] = cases[i];
      ExpectFailure(result, code, message, label);
      expect(existsSync(join(dir, `bad-${i}`)), label).toBe(false);
    });

    const unwritable: [string, string, RegExp][] = [
      ["under a file", join(blocker, "sheet.png"), /--out: cannot create .*blocker\.txt: .*blocker\.txt is not a folder|--out: .*blocker\.txt exists and is not a folder/],
      ["a folder", join(dir, "folder.png"), /--out: .*folder\.png is a folder/],
    ];
    if (existsSync("/proc/self")) unwritable.push(["on a pseudo file system", "/proc/npc-faces-test/sheet.png", /--out: cannot create \/proc\/npc-faces-test/]);
    const written = await Promise.all(unwritable.map(([, out]) => RunCliAsync(["sheet", "seeds", "--model", model, "--out", out, "--seeds", "0-3"])));
    written.forEach((result, i) => ExpectFailure(result, 1, unwritable[i][2], unwritable[i][0]));
    expect(await readFile(blocker, "utf8")).toBe("x");
  }, 300_000); // 22 CLI runs, most of them loading the model
});
