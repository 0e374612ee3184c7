/**
 * Fuzzed model files: mutated bytes of a small exported model (and random bytes) are refused by the runtime with an
 * NpcFacesError and a one-line message, or load and generate a face; nothing else is thrown and nothing hangs.
 * Mutations that keep the integrity digest valid but change the metadata are the ones that reach deepest.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FaceGenerator, NpcFacesError, ReadModelFile, ReadOnnxModel } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { TinyModelAsync } from "../../../runtime/test/testModels.js";
import { ApplyEdits, ByteEdits, FuzzParameters, IsOneLine, Occurrences } from "./fuzzUtil.js";

/** Refused with the runtime's error type and a one-line message. */
function ExpectRefusal(error: unknown): void {
  expect(error).toBeInstanceOf(NpcFacesError);
  expect(IsOneLine((error as Error).message), (error as Error).message).toBe(true);
}

describe("fuzz: model files", () => {
  it("random bytes: the ONNX reader refuses them (NpcFacesError) or reads them; never throws anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          ReadOnnxModel(bytes, "fuzz.onnx");
        } catch (error) {
          ExpectRefusal(error);
        }
        try {
          ReadModelFile(bytes, "fuzz.onnx");
        } catch (error) {
          ExpectRefusal(error);
        }
      }),
      FuzzParameters(2000, 5000),
    );
  });

  it("mutated model bytes: refused with NpcFacesError, or the model loads and generates a face", async () => {
    const model = await TinyModelAsync();
    const backend = CreateNodeBackend({ intraOpNumThreads: 1 });
    // Most edits land in the weights (refused by the integrity digest); aim a share at the metadata JSON too.
    const metadataAt = Occurrences(model, '"format"');
    expect(metadataAt.length).toBeGreaterThan(0);
    const metadataFraction = metadataAt[0] / model.length;
    let loaded = 0;
    let refused = 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(ByteEdits(3), fc.boolean(), fc.boolean(), async (edits, aimAtMetadata, inPlace) => {
        // In-place edits keep the protobuf framing, so they get past the reader to the digest and the metadata.
        const kept = inPlace ? edits.map((e) => ({ ...e, kind: e.kind === "set" ? "set" : "flip" })) : edits;
        const aimed = aimAtMetadata ? kept.map((e) => ({ ...e, where: metadataFraction + (e.where * 2000) / model.length })) : kept;
        const bytes = ApplyEdits(model, aimed.map((e) => ({ ...e, where: Math.min(e.where, 0.999999) })));
        let generator: FaceGenerator | undefined;
        try {
          generator = await FaceGenerator.loadAsync(bytes, { backend, source: "fuzz.onnx" });
          const [face] = await generator.generateAsync([{ seed: 1 }]);
          expect(face.data.length).toBe(generator.resolution * generator.resolution * 4);
          loaded++;
        } catch (error) {
          ExpectRefusal(error);
          refused++;
          codes.set((error as NpcFacesError).code, (codes.get((error as NpcFacesError).code) ?? 0) + 1);
        } finally {
          await generator?.disposeAsync();
        }
      }),
      FuzzParameters(120, 8_000),
    );
    expect(refused).toBeGreaterThan(0);
    console.log(`model fuzz: ${refused} refused (${[...codes].map(([c, n]) => `${c} ${n}`).join(", ")}), ${loaded} loaded and generated`);
  });
});
