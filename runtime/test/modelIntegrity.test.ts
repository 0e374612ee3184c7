/**
 * The model file's integrity digest: a copy damaged anywhere in its graph (weights included) is refused at load with
 * CORRUPT_MODEL before any engine sees it; damage anywhere else is either harmless (documentation strings) or refused
 * with another NpcFacesError; nothing crashes or throws another error type. Files without a digest still load.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { FaceGenerator, GraphSha256Async, IsNpcFacesError, MetadataKey, ReadOnnxModel, type NpcFacesErrorCode } from "@npc-faces/runtime";
import { DefaultModelPath } from "@npc-faces/runtime/node";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { ParseOnnxModel, SerializeOnnxModel } from "@npc-faces/trainer";
import { TinyModelAsync } from "./testModels.js";

const backend = CreateWebBackend();

/** Loads bytes; returns the generator's integrity, or the NpcFacesError code (anything else fails the test). */
async function LoadOutcomeAsync(bytes: Uint8Array): Promise<"verified" | "absent" | NpcFacesErrorCode> {
  try {
    const generator = await FaceGenerator.loadAsync(bytes, { backend, source: "mutant.onnx" });
    await generator.disposeAsync();
    return generator.integrity;
  } catch (error) {
    if (IsNpcFacesError(error)) return error.code;
    throw new Error(`not an NpcFacesError: ${String(error)}`, { cause: error });
  }
}

/** A small seeded generator (xorshift32) so the sampled positions are the same on every run. */
function SeededPositions(count: number, start: number, end: number, seed: number): number[] {
  let x = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return start + ((x >>> 0) % (end - start));
  });
}

describe("model integrity digest", () => {
  it("is written at export and verified at load; the digest is of the graph bytes", async () => {
    const bytes = await TinyModelAsync();
    const onnx = ReadOnnxModel(bytes);
    const metadata = JSON.parse(onnx.metadataProps.find((e) => e.key === MetadataKey)!.value) as { integrity?: { graphSha256: string } };
    expect(metadata.integrity?.graphSha256).toBe(await GraphSha256Async(bytes, onnx));
    expect(await LoadOutcomeAsync(bytes)).toBe("verified");
  });

  it("refuses every sampled one-byte change inside the default model's graph with CORRUPT_MODEL (or a framing error), never loading it", async () => {
    const original = new Uint8Array(await readFile(DefaultModelPath()));
    const [[start, end]] = ReadOnnxModel(original).graphByteRanges;
    // The weights are most of the graph; the first and last bytes are the edges of what the digest covers.
    const positions = [start, end - 1, ...SeededPositions(120, start, end, 0x5eed)];
    const outcomes = new Map<string, number>();
    for (const position of positions) {
      const mutant = new Uint8Array(original); // a copy (Buffer#slice would be a view)
      mutant[position] ^= 1 << (position % 8);
      const outcome = await LoadOutcomeAsync(mutant);
      expect(["CORRUPT_MODEL", "NOT_ONNX", "GRAPH_MISMATCH"], `byte ${position} flipped`).toContain(outcome);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // Most flips land in weight bytes, where only the digest can tell.
    expect(outcomes.get("CORRUPT_MODEL") ?? 0).toBeGreaterThan(positions.length / 2);
  }, 120_000);

  it("answers any damage elsewhere, and truncation, with an NpcFacesError or a verified load, never a crash", async () => {
    const original = await TinyModelAsync();
    const [[start, end]] = ReadOnnxModel(original).graphByteRanges;
    // Every byte outside the graph (header, doc string, metadata), thinned to at most ~400 loads.
    const all = Array.from({ length: original.length }, (_, p) => p).filter((p) => p < start || p >= end);
    const stride = Math.max(1, Math.ceil(all.length / 400));
    const outside = all.filter((_, i) => i % stride === 0);
    for (const position of outside) {
      const mutant = new Uint8Array(original); // a copy (Buffer#slice would be a view)
      mutant[position] = (mutant[position] + 1 + (position % 255)) & 0xff;
      const outcome = await LoadOutcomeAsync(mutant);
      expect(outcome, `byte ${position} changed`).not.toBe("absent");
    }
    for (const length of [1, 16, start, Math.floor((start + end) / 2), end - 1, original.length - 1]) {
      expect(await LoadOutcomeAsync(original.subarray(0, length)), `truncated to ${length} bytes`).toMatch(/^[A-Z_]+$/);
    }
  }, 120_000);

  it("loads an older file without a digest, reporting integrity 'absent'", async () => {
    const model = ParseOnnxModel(await TinyModelAsync());
    const entry = model.metadataProps.find((e) => e.key === MetadataKey)!;
    const { integrity: _integrity, ...document } = JSON.parse(entry.value!) as Record<string, unknown>;
    entry.value = JSON.stringify(document);
    expect(await LoadOutcomeAsync(SerializeOnnxModel(model))).toBe("absent");
  });

  it("refuses a malformed digest in the metadata with BAD_METADATA", async () => {
    const model = ParseOnnxModel(await TinyModelAsync());
    const entry = model.metadataProps.find((e) => e.key === MetadataKey)!;
    entry.value = JSON.stringify({ ...(JSON.parse(entry.value!) as object), integrity: { graphSha256: "not-hex" } });
    expect(await LoadOutcomeAsync(SerializeOnnxModel(model))).toBe("BAD_METADATA");
  });
});
