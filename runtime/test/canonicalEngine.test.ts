/**
 * The canonical engine (onnxruntime-web's WASM build) is what defines a face's exact bytes. These tests establish
 * the properties that make that definition hold on every machine rather than assume them:
 *  - its `.wasm` binaries contain no relaxed-SIMD instruction (the only WASM arithmetic whose result may depend on
 *    the CPU): V8 validates them with relaxed SIMD switched off, and a one-instruction module proves the check bites;
 *  - only single-threaded WASM counts: with more threads onnxruntime-web splits some operators by thread count
 *    (the batch size does not matter: defaultModel.test.ts checks batches of 1, 3 and 70);
 *  - a test model's faces are pinned by a golden (canonicalEngine.golden.json), bit for bit.
 * The default model's 64-seed golden is in defaultModel.test.ts; Chromium's WebGL2/WebGPU pages in the e2e tests.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { TinyModelAsync } from "./testModels.js";

const run = promisify(execFile);
const GoldenFile = fileURLToPath(new URL("./canonicalEngine.golden.json", import.meta.url));
const Update = process.env.UPDATE_GOLDEN === "1";
const Sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/**
 * `(func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd)`: the control
 * that shows V8 refuses relaxed SIMD with the flag off (and so that a binary it accepts has none).
 */
const RelaxedMaddModule = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // code: ... f32x4.relaxed_madd (0xfd 0x105)
];

/** The WASM binaries the canonical engine loads: in Node the plain build; in browsers also the JSEP build (WebGPU bundles). */
const CanonicalBinaries = ["ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.jsep.wasm", "ort-wasm-simd-threaded.asyncify.wasm"];

/** Validates WASM binaries in a Node process with relaxed SIMD off (or on); returns file -> valid. */
async function ValidateWasmAsync(files: readonly string[], relaxedSimd: boolean): Promise<Record<string, boolean>> {
  const script = `
    const { readFileSync } = require("node:fs");
    const files = JSON.parse(process.argv[1]);
    const result = { control: WebAssembly.validate(new Uint8Array(${JSON.stringify(RelaxedMaddModule)})) };
    for (const f of files) result[f] = WebAssembly.validate(readFileSync(f));
    console.log(JSON.stringify(result));`;
  const flag = relaxedSimd ? "--experimental-wasm-relaxed-simd" : "--no-experimental-wasm-relaxed-simd";
  const { stdout } = await run(process.execPath, [flag, "-e", script, JSON.stringify(files)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as Record<string, boolean>;
}

describe("the canonical engine's binaries", () => {
  it("contain no relaxed-SIMD instruction (V8 validates them with relaxed SIMD off; the control module it refuses)", async () => {
    const dist = dirname(createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
    const present = (await readdir(dist)).filter((name) => name.endsWith(".wasm"));
    expect(present).toEqual(expect.arrayContaining(CanonicalBinaries));
    const files = CanonicalBinaries.map((name) => join(dist, name));
    const off = await ValidateWasmAsync(files, false);
    expect(off.control, "V8 must refuse f32x4.relaxed_madd with relaxed SIMD off, or this check proves nothing").toBe(false);
    for (const file of files) expect(off[file], `${file} needs relaxed SIMD (or is not valid WASM)`).toBe(true);
    const on = await ValidateWasmAsync([], true);
    expect(on.control, "the control module is valid WASM with relaxed SIMD on").toBe(true);
  });
});

describe("what counts as canonical", () => {
  it("is single-threaded WASM only: more threads, or WebGPU first, make a 'close' engine", () => {
    // Measured (docs/seeds.md): with 3 or 4 threads, 1-2 of 16 default-model faces change at batch 1.
    expect(CreateWebBackend().canonical).toBe(true);
    expect(CreateWebBackend({ numThreads: 1, executionProviders: ["wasm"] }).canonical).toBe(true);
    expect(CreateWebBackend({ numThreads: 4 }).canonical).toBe(false);
    expect(CreateWebBackend({ numThreads: 0 }).canonical).toBe(false);
    expect(CreateWebBackend({ executionProviders: ["webgpu", "wasm"] }).canonical).toBe(false);
    expect(CreateNodeBackend().canonical).not.toBe(true);
  });
});

describe("a test model's golden faces", () => {
  let generator: FaceGenerator;
  beforeAll(async () => {
    generator = await FaceGenerator.loadAsync(await TinyModelAsync({ conditional: true }), { backend: CreateWebBackend({ numThreads: 1 }) });
  });
  afterAll(async () => generator?.disposeAsync());

  it("are the canonical engine's bytes, bit for bit (the exporter, the seeds and the engine together)", async () => {
    expect(generator.canonical).toBe(true);
    const requests = [{ seed: 0 }, { seed: 1 }, { seed: 77, psi: 1, labels: { hair: "blond" } }, { seed: 3, mixSeed: 4, mix: 0.5, controls: { direction_0: 2 } }];
    const faces = (await generator.generateAsync(requests)).map((face) => Sha256(face.data));
    const golden = { comment: "Canonical faces of the conditional tiny test model (runtime/test/testModels.ts). Regenerate: UPDATE_GOLDEN=1 npx vitest run runtime/test/canonicalEngine.test.ts", model: generator.modelHash, requests, faces };
    if (Update) {
      await writeFile(GoldenFile, `${JSON.stringify(golden, null, 2)}\n`);
      return;
    }
    const stored = JSON.parse(await readFile(GoldenFile, "utf8")) as typeof golden;
    expect(generator.modelHash, "the exporter now writes another file for the tiny model; if on purpose: UPDATE_GOLDEN=1").toBe(stored.model);
    expect(stored.requests).toEqual(requests);
    expect(faces).toEqual(stored.faces);
  });
});
