import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { NpcFacesError } from "@npc-faces/runtime";
import { CreateEngineBackendAsync, LoadFaceGeneratorFileAsync } from "@npc-faces/runtime/node";
import { CraftOnnxModel, PngHeader, SampleMetadata } from "./onnxFixtures.js";

const dir = mkdtempSync(join(tmpdir(), "npc-faces-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function LoadError(path: string): Promise<NpcFacesError> {
  try {
    await LoadFaceGeneratorFileAsync(path);
  } catch (error) {
    return error as NpcFacesError;
  }
  throw new Error("expected an error");
}

describe("LoadFaceGeneratorFileAsync", () => {
  it("fails with NOT_A_FILE for a missing path", async () => {
    const path = join(dir, "missing.onnx");
    const e = await LoadError(path);
    expect(e.code).toBe("NOT_A_FILE");
    expect(e.message).toBe(`${path}: cannot read the model file (no such file)`);
  });

  it("fails with NOT_A_FILE for a directory", async () => {
    const e = await LoadError(dir);
    expect(e.code).toBe("NOT_A_FILE");
    expect(e.message).toBe(`${dir}: not a file (a directory)`);
  });

  it("validates the file before creating a session, naming the path", async () => {
    const cases: [string, Uint8Array, string][] = [
      ["empty.onnx", new Uint8Array(0), "NOT_ONNX"],
      ["face.png", PngHeader, "NOT_ONNX"],
      ["other.onnx", CraftOnnxModel({ metadata: null, inputs: ["x"], outputs: ["y"] }), "NOT_NPC_FACES_MODEL"],
      ["future.onnx", CraftOnnxModel({ metadata: { ...SampleMetadata(), formatVersion: 2 } }), "FORMAT_TOO_NEW"],
      ["mismatch.onnx", CraftOnnxModel({ outputs: ["rgba"] }), "GRAPH_MISMATCH"],
    ];
    for (const [name, bytes, code] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const e = await LoadError(path);
      expect(e.code, name).toBe(code);
      expect(e.message.startsWith(`${path}: `), e.message).toBe(true);
    }
  });

  it("fails with BACKEND_FAILED when the interface is right but onnxruntime cannot load the graph", async () => {
    // Inputs and outputs as the metadata says, but no node produces the outputs.
    const path = join(dir, "hollow.onnx");
    writeFileSync(path, CraftOnnxModel());
    const e = await LoadError(path);
    expect(e.code).toBe("BACKEND_FAILED");
    expect(e.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: onnxruntime-web/wasm, 1 thread could not load the model \\(.+\\)$`));
  });

  it("refuses native-only settings on the canonical engine instead of ignoring them", async () => {
    for (const options of [{ intraOpNumThreads: 2 }, { executionMode: "parallel" as const }, { graphOptimizationLevel: "basic" as const }, { allowSpinning: true }]) {
      const error = await CreateEngineBackendAsync("canonical", options).then(() => null, (e: NpcFacesError) => e);
      expect(error?.code).toBe("BAD_REQUEST");
      expect(error?.message).toMatch(/the canonical engine runs one thread with fixed settings .* applies to engine "native" only/);
    }
    // One thread is the canonical engine's own setting, and the native engine takes any.
    expect((await CreateEngineBackendAsync("canonical", { intraOpNumThreads: 1 })).name).toMatch(/wasm/i);
    expect((await CreateEngineBackendAsync("native", { intraOpNumThreads: 2 })).name).toBe("onnxruntime-node/cpu, 2 threads");
  });
});
