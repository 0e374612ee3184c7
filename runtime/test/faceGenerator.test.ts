import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator, ReadModelMetadata, type FaceImage, type FaceRequest, type InferenceBackend, type NpcFacesError } from "@npc-faces/runtime";
import { CreateNodeBackend, LoadFaceGeneratorFileAsync } from "@npc-faces/runtime/node";
import { TinyModelAsync } from "./testModels.js";

/** A real node backend that records every run (batch size and requested outputs). */
function RecordingBackend(runs: { n: number; outputs: string[] }[], options: Parameters<typeof CreateNodeBackend>[0] = {}): InferenceBackend {
  const inner = CreateNodeBackend(options);
  return {
    name: inner.name,
    async createSessionAsync(model) {
      const session = await inner.createSessionAsync(model);
      return {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        runAsync(feeds, outputNames) {
          runs.push({ n: feeds.z.dims[0], outputs: [...outputNames] });
          return session.runAsync(feeds, outputNames);
        },
        releaseAsync: () => session.releaseAsync(),
      };
    },
  };
}

async function Rejection(promise: Promise<unknown>): Promise<NpcFacesError> {
  try {
    await promise;
  } catch (error) {
    return error as NpcFacesError;
  }
  throw new Error("expected a rejection");
}

function CountDifferent(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

let model: Uint8Array;
let generator: FaceGenerator;
const runs: { n: number; outputs: string[] }[] = [];
const dir = mkdtempSync(join(tmpdir(), "npc-faces-gen-"));

beforeAll(async () => {
  model = await TinyModelAsync();
  generator = await FaceGenerator.loadAsync(model, { backend: RecordingBackend(runs), maxBatch: 4 });
});
afterAll(async () => {
  await generator?.disposeAsync();
  rmSync(dir, { recursive: true, force: true });
});

async function OneAsync(request: FaceRequest): Promise<FaceImage> {
  return (await generator.generateAsync([request]))[0];
}

describe("FaceGenerator (tiny model, onnxruntime-node)", () => {
  it("exposes metadata, controls, resolution and the file's SHA-256", () => {
    expect(generator.metadata).toEqual(ReadModelMetadata(model));
    expect(generator.resolution).toBe(16);
    expect(generator.controls.map((c) => c.name)).toEqual(["direction_0", "direction_1"]);
    expect(generator.modelHash).toBe(createHash("sha256").update(model).digest("hex"));
    expect(generator.onnx.producerName).toBe("npc-faces");
    expect(generator.backendName).toBe("onnxruntime-node/cpu");
  });

  it("returns RGBA8 faces with opaque alpha, and the float image on request", async () => {
    const [face] = await generator.generateAsync([{ seed: 7 }], { includeFloat: true });
    expect(face.width).toBe(16);
    expect(face.height).toBe(16);
    expect(face.data.length).toBe(16 * 16 * 4);
    expect(face.float!.length).toBe(3 * 16 * 16);
    for (let i = 3; i < face.data.length; i += 4) expect(face.data[i]).toBe(255);
    // rgba = floor(clip(image * 127.5 + 128, 0, 255)) in float32 (docs/model-format.md), NCHW -> NHWC.
    const f = face.float!;
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        for (let c = 0; c < 3; c++) {
          const v = Math.fround(Math.fround(f[c * 256 + y * 16 + x] * 127.5) + 128);
          expect(face.data[(y * 16 + x) * 4 + c]).toBe(Math.floor(Math.min(255, Math.max(0, v))));
        }
      }
    }
    expect((await OneAsync({ seed: 7 })).float).toBeUndefined();
  });

  it("is deterministic: the same request twice, and in a fresh session, gives identical bytes", async () => {
    const a = await OneAsync({ seed: 123, psi: 0.9 });
    const b = await OneAsync({ seed: 123, psi: 0.9 });
    expect(CountDifferent(a.data, b.data)).toBe(0);
    const other = await FaceGenerator.loadAsync(model, { backend: CreateNodeBackend() });
    try {
      expect(CountDifferent((await other.generateAsync([{ seed: 123, psi: 0.9 }]))[0].data, a.data)).toBe(0);
    } finally {
      await other.disposeAsync();
    }
  });

  it("gives the same bits for a face in a batch of 3 as alone (measured: bit-identical, also the float image)", async () => {
    const requests: FaceRequest[] = [{ seed: 11 }, { seed: 22, mixSeed: 5, mixCrossover: 3, controls: { direction_0: 1.5 } }, { seed: 33, psi: 0.4, noiseStrength: 0.5 }];
    const batch = await generator.generateAsync(requests, { includeFloat: true });
    for (let i = 0; i < requests.length; i++) {
      const [alone] = await generator.generateAsync([requests[i]], { includeFloat: true });
      expect(CountDifferent(batch[i].data, alone.data), `request ${i}`).toBe(0);
      expect(batch[i].float).toEqual(alone.float);
    }
  });

  it("serialises concurrent calls; results do not depend on timing", async () => {
    const [a, b] = await Promise.all([generator.generateAsync([{ seed: 61 }, { seed: 62 }]), generator.generateAsync([{ seed: 62 }])]);
    expect(CountDifferent(a[1].data, b[0].data)).toBe(0);
  });

  it("runs one session run per batch of at most maxBatch, fetching only rgba unless includeFloat", async () => {
    runs.length = 0;
    const requests = Array.from({ length: 9 }, (_, i) => ({ seed: 100 + i }));
    const faces = await generator.generateAsync(requests);
    expect(runs).toEqual([
      { n: 4, outputs: ["rgba"] },
      { n: 4, outputs: ["rgba"] },
      { n: 1, outputs: ["rgba"] },
    ]);
    expect(CountDifferent(faces[8].data, (await OneAsync({ seed: 108 })).data)).toBe(0);
    runs.length = 0;
    await generator.generateAsync([{ seed: 1 }], { includeFloat: true });
    expect(runs).toEqual([{ n: 1, outputs: ["rgba", "image"] }]);
    expect(await generator.generateAsync([])).toEqual([]);
  });

  it("validates every request before running anything", async () => {
    runs.length = 0;
    const e = await Rejection(generator.generateAsync([{ seed: 1 }, { seed: 2 }, { seed: 3 }, { seed: 4 }, { seed: 5, controls: { smile: 1 } }]));
    expect(e.code).toBe("BAD_REQUEST");
    expect(e.message).toBe("requests[4].controls.smile: unknown control (known: direction_0, direction_1)");
    expect(runs).toEqual([]);
  });

  it("different seeds give different faces", async () => {
    const faces = await generator.generateAsync([1, 2, 3, 4].map((seed) => ({ seed })));
    for (let i = 0; i < faces.length; i++) for (let j = i + 1; j < faces.length; j++) expect(CountDifferent(faces[i].data, faces[j].data)).toBeGreaterThan(100);
  });

  it("psi, mix, controls and noiseStrength each change the image", async () => {
    const base = await OneAsync({ seed: 5 });
    const changed = async (request: Omit<FaceRequest, "seed">) => CountDifferent(base.data, (await OneAsync({ seed: 5, ...request })).data);
    expect(await changed({ psi: 1 })).toBeGreaterThan(50);
    expect(await changed({ mixSeed: 6 })).toBeGreaterThan(50);
    expect(await changed({ mixSeed: 6, mixCrossover: 3 })).toBeGreaterThan(0);
    expect(await changed({ controls: { direction_0: 3 } })).toBeGreaterThan(50);
    expect(await changed({ controls: { direction_1: -3 } })).toBeGreaterThan(50);
    expect(await changed({ noiseStrength: 0 })).toBeGreaterThan(10);
    // Explicit defaults change nothing.
    expect(await changed({ psi: 0.7, noiseStrength: 1, controls: { direction_0: 0 }, mix: 0 })).toBe(0);
  });

  it("mixing semantics: full mix takes the mix seed's w, crossover numWs or mix 0 keeps the own w", async () => {
    const quiet = { noiseStrength: 0 }; // noise comes from the face's own seed; without it only w matters
    const b = await OneAsync({ seed: 9, ...quiet });
    expect(CountDifferent((await OneAsync({ seed: 8, mixSeed: 9, ...quiet })).data, b.data)).toBe(0);
    const a = await OneAsync({ seed: 8, ...quiet });
    expect(CountDifferent((await OneAsync({ seed: 8, mixSeed: 9, mixCrossover: generator.metadata.numWs, ...quiet })).data, a.data)).toBe(0);
    expect(CountDifferent((await OneAsync({ seed: 8, mixSeed: 9, mix: 0, ...quiet })).data, a.data)).toBe(0);
    // psi 0 without noise: every seed is the average face.
    expect(CountDifferent((await OneAsync({ seed: 1, psi: 0, noiseStrength: 0 })).data, (await OneAsync({ seed: 2, psi: 0, noiseStrength: 0 })).data)).toBe(0);
  });

  // Measured on a 2-core machine with tiny and game64 models: bit-identical, image and rgba (the graph
  // optimisation level, by contrast, changed 1 byte of 16384 on game64: session options are part of the promise).
  it("intraOpNumThreads 1, 2 and 4 give bit-identical faces", async () => {
    const requests: FaceRequest[] = [{ seed: 41 }, { seed: 42, mixSeed: 1, controls: { direction_1: 2 } }];
    const results: FaceImage[][] = [];
    for (const threads of [1, 2, 4]) {
      const g = await FaceGenerator.loadAsync(model, { backend: CreateNodeBackend({ intraOpNumThreads: threads }) });
      expect(g.backendName).toBe(`onnxruntime-node/cpu, ${threads} threads`);
      results.push(await g.generateAsync(requests, { includeFloat: true }));
      await g.disposeAsync();
    }
    for (const other of results.slice(1)) {
      other.forEach((face, i) => {
        expect(CountDifferent(face.data, results[0][i].data)).toBe(0);
        expect(face.float).toEqual(results[0][i].float);
      });
    }
  });

  it("fails with DISPOSED after disposeAsync (which is idempotent)", async () => {
    const g = await FaceGenerator.loadAsync(model, { backend: CreateNodeBackend() });
    await g.disposeAsync();
    await g.disposeAsync();
    const e = await Rejection(g.generateAsync([{ seed: 1 }]));
    expect(e.code).toBe("DISPOSED");
  });

  it("rejects a bad maxBatch", async () => {
    const e = await Rejection(FaceGenerator.loadAsync(model, { backend: CreateNodeBackend(), maxBatch: 0 }));
    expect(e.code).toBe("BAD_REQUEST");
  });
});

describe("conditional tiny model", () => {
  it("labels change the image; missing attributes use the default probabilities", async () => {
    const g = await FaceGenerator.loadAsync(await TinyModelAsync({ conditional: true }), { backend: CreateNodeBackend() });
    try {
      expect(g.metadata.labelDim).toBe(4);
      const [byDefault, black, blond, explicitDefault] = await g.generateAsync([
        { seed: 3 },
        { seed: 3, labels: { hair: "black" } },
        { seed: 3, labels: { hair: "blond", glasses: "yes" } },
        { seed: 3 },
      ]);
      expect(CountDifferent(byDefault.data, black.data)).toBeGreaterThan(10);
      expect(CountDifferent(black.data, blond.data)).toBeGreaterThan(10);
      expect(CountDifferent(byDefault.data, explicitDefault.data)).toBe(0);
    } finally {
      await g.disposeAsync();
    }
  });
});

describe("LoadFaceGeneratorFileAsync with a real model file", () => {
  it("loads the file and gives the same faces and hash as loading the bytes", async () => {
    const path = join(dir, "tiny.onnx");
    writeFileSync(path, model);
    const g = await LoadFaceGeneratorFileAsync(path, { engine: "native", intraOpNumThreads: 1 });
    try {
      expect(g.modelHash).toBe(generator.modelHash);
      expect(CountDifferent((await g.generateAsync([{ seed: 77 }]))[0].data, (await OneAsync({ seed: 77 })).data)).toBe(0);
    } finally {
      await g.disposeAsync();
    }
  });

  it("fails with NOT_ONNX on a truncated model file, naming the path", async () => {
    const path = join(dir, "truncated.onnx");
    writeFileSync(path, model.subarray(0, Math.floor(model.length / 2)));
    const e = await Rejection(LoadFaceGeneratorFileAsync(path));
    expect(e.code).toBe("NOT_ONNX");
    expect(e.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: not an ONNX model \\(.*declares \\d+ bytes but only \\d+ remain\\)$`));
  });
});
