/**
 * The onnxruntime-web adapter, run in Node (onnxruntime-web's WASM backend works outside browsers), compared
 * pixel for pixel with onnxruntime-node on the same tiny model and requests.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator, type FaceImage, type FaceRequest } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { TinyModelAsync } from "./testModels.js";

let web: FaceGenerator;
let node: FaceGenerator;

beforeAll(async () => {
  const model = await TinyModelAsync();
  web = await FaceGenerator.loadAsync(model, { backend: CreateWebBackend({ numThreads: 1 }) });
  node = await FaceGenerator.loadAsync(model, { backend: CreateNodeBackend({ intraOpNumThreads: 1 }) });
});
afterAll(async () => {
  await web?.disposeAsync();
  await node?.disposeAsync();
});

/** Differences between two RGBA8 images: channels that differ, the largest difference, pixels that differ. */
function Compare(a: FaceImage, b: FaceImage): { channels: number; pixels: number; maxDiff: number } {
  let channels = 0;
  let pixels = 0;
  let maxDiff = 0;
  for (let p = 0; p < a.data.length; p += 4) {
    let differs = false;
    for (let c = 0; c < 4; c++) {
      const d = Math.abs(a.data[p + c] - b.data[p + c]);
      if (d > 0) {
        channels++;
        differs = true;
        maxDiff = Math.max(maxDiff, d);
      }
    }
    if (differs) pixels++;
  }
  return { channels, pixels, maxDiff };
}

describe("CreateWebBackend (onnxruntime-web WASM in Node)", () => {
  it("starts its engine ahead of the first session (prepareAsync, idempotent); the generator reports where loading took its time", async () => {
    const backend = CreateWebBackend({ numThreads: 1 });
    const prepared = backend.prepareAsync!();
    expect(backend.prepareAsync!()).toBe(prepared);
    await prepared;
    const generator = await FaceGenerator.loadAsync(await TinyModelAsync(), { backend });
    expect(generator.loadTimings.checkMs).toBeGreaterThanOrEqual(0);
    expect(generator.loadTimings.sessionMs).toBeGreaterThanOrEqual(0);
    const [face] = await generator.generateAsync([{ seed: 11 }]);
    expect(face.data).toEqual((await web.generateAsync([{ seed: 11 }]))[0].data);
    await generator.disposeAsync();
  });

  it("in browsers, WASM alone loads onnxruntime-web's plain WASM build; WebGPU its default build (esbuild's resolution of the runtime)", async () => {
    const { build } = await import("esbuild");
    const bundle = async (specifier: string) => {
      const result = await build({
        stdin: { contents: `export const ort = await import(${JSON.stringify(specifier)});`, resolveDir: fileURLToPath(new URL("../src/web/", import.meta.url)), loader: "ts" },
        bundle: true,
        write: false,
        format: "esm",
        platform: "browser",
        conditions: ["onnxruntime-web-use-extern-wasm", "import", "browser"],
        metafile: true,
        logLevel: "silent",
      });
      return Object.keys(result.metafile.inputs).filter((p) => p.includes("onnxruntime-web/dist/")).map((p) => p.slice(p.lastIndexOf("/") + 1));
    };
    // webBackend.ts imports these two specifiers; the first is runtime/package.json's "imports" entry.
    expect(await bundle("#onnxruntime-web-wasm")).toEqual(["ort.wasm.min.mjs"]); // loads ort-wasm-simd-threaded.wasm (14 MB)
    expect(await bundle("onnxruntime-web")).toEqual(["ort.min.mjs"]); // loads ort-wasm-simd-threaded.jsep.wasm (28 MB, Asyncify)
  });

  it("names its providers and rejects unknown ones", () => {
    expect(web.backendName).toBe("onnxruntime-web/wasm, 1 thread");
    expect(CreateWebBackend({ executionProviders: ["webgpu", "wasm"] }).name).toBe("onnxruntime-web/webgpu+wasm, 1 thread");
    expect(() => CreateWebBackend({ executionProviders: ["cuda" as "wasm"] })).toThrow(/unsupported execution provider "cuda"/);
    expect(() => CreateWebBackend({ executionProviders: [] })).toThrow(/empty/);
  });

  it("is deterministic: the same request twice gives identical bytes", async () => {
    const [a] = await web.generateAsync([{ seed: 11 }]);
    const [b] = await web.generateAsync([{ seed: 11 }]);
    expect(b.data).toEqual(a.data);
  });

  it("matches onnxruntime-node within 1 level of 255 (measured and reported)", async () => {
    const requests: FaceRequest[] = [];
    for (let seed = 0; seed < 24; seed++) requests.push({ seed: seed * 7919 + 1 });
    requests.push({ seed: 5, mixSeed: 6, mix: 0.5, mixCrossover: 2 }, { seed: 5, psi: 1, noiseStrength: 0 }, { seed: 5, controls: { direction_0: 2, direction_1: -1 } });
    const [webFaces, nodeFaces] = [await web.generateAsync(requests, { includeFloat: true }), await node.generateAsync(requests, { includeFloat: true })];
    let floatMax = 0;
    webFaces.forEach((f, i) => f.float!.forEach((v, j) => (floatMax = Math.max(floatMax, Math.abs(v - nodeFaces[i].float![j])))));
    let total = { channels: 0, pixels: 0, maxDiff: 0 };
    for (let i = 0; i < requests.length; i++) {
      const d = Compare(webFaces[i], nodeFaces[i]);
      total = { channels: total.channels + d.channels, pixels: total.pixels + d.pixels, maxDiff: Math.max(total.maxDiff, d.maxDiff) };
    }
    const allPixels = requests.length * 16 * 16;
    console.log(
      `onnxruntime-web/wasm vs onnxruntime-node/cpu, ${requests.length} faces of 16x16 (${allPixels} pixels): ` +
        `${total.pixels} pixels (${((100 * total.pixels) / allPixels).toFixed(2)}%) differ, ${total.channels} channels, max difference ${total.maxDiff}/255; float image max |difference| ${floatMax.toExponential(2)}`,
    );
    expect(total.maxDiff).toBeLessThanOrEqual(1);
    expect(total.pixels / allPixels).toBeLessThan(0.01);
  });
});
