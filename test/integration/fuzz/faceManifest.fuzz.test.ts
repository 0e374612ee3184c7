/**
 * Fuzzed face manifests: the runtime's parser (ParseFaceManifest) refuses a bad document with NpcFacesError
 * BAD_MANIFEST (its message: a first line naming the source and the count, then one line per problem), or accepts
 * it; an accepted manifest that passes CheckManifestAgainstModel generates its faces.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckManifestAgainstModel, FaceGenerator, ManifestNpcToFaceRequest, NpcFacesError, ParseFaceManifest, Sha256HexAsync } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { TinyModelAsync } from "../../../runtime/test/testModels.js";
import { FuzzParameters, IsOneLine } from "./fuzzUtil.js";

let generator: FaceGenerator;
let sha256 = "";

beforeAll(async () => {
  const model = await TinyModelAsync();
  sha256 = await Sha256HexAsync(model);
  generator = await FaceGenerator.loadAsync(model, { backend: CreateNodeBackend({ intraOpNumThreads: 1 }) });
});
afterAll(async () => {
  await generator?.disposeAsync();
});

/** Usually-valid values with hostile ones mixed in. */
const AnyNumber = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double(), fc.constantFrom(0, 1, -0, 4294967295, 4294967296, 1e308, -1e308, 0.5), fc.string({ maxLength: 4 }), fc.constant(null));
const Seed = fc.oneof(fc.nat({ max: 4294967295 }), AnyNumber);
const Id = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,10}$/), fc.constantFrom("..", ".hidden", "../escape", "a/b", "a\\b", "C:x", "", "x".repeat(129), "con", "a\u0000b"), fc.string({ maxLength: 8 }));
/** Mostly a valid value, sometimes a hostile one, so that whole NPCs pass often enough to be generated. */
const Mostly = <T,>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: AnyNumber });
const Npc = fc.record(
  {
    id: fc.oneof({ weight: 5, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,10}$/) }, { weight: 1, arbitrary: Id }),
    name: Mostly(fc.string({ maxLength: 12 })),
    seed: Mostly(fc.nat({ max: 4294967295 })),
    mixSeed: Mostly(fc.nat({ max: 4294967295 })),
    mix: Mostly(fc.double({ min: 0, max: 1, noNaN: true })),
    mixCrossover: Mostly(fc.integer({ min: 0, max: 12 })),
    psi: Mostly(fc.double({ min: -1e6, max: 1e6, noNaN: true })),
    noiseStrength: Mostly(fc.double({ min: -1e6, max: 1e6, noNaN: true })),
    controls: fc.dictionary(fc.oneof({ weight: 5, arbitrary: fc.constantFrom("direction_0", "direction_1") }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }), Mostly(fc.double({ min: -1e6, max: 1e6, noNaN: true })), { maxKeys: 2 }),
    labels: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 6 }), AnyNumber), { maxKeys: 1 }),
    notes: Mostly(fc.string({ maxLength: 10 })),
    extra: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
).map((npc) => {
  // Unknown keys and labels (the tiny model has none) are refused: keep them rare.
  const { extra, labels, ...rest } = npc as Record<string, unknown>;
  const roll = JSON.stringify(rest).length % 7;
  return { ...rest, ...(roll === 0 && extra !== undefined ? { extra } : {}), ...(roll === 1 && labels !== undefined ? { labels } : {}) };
});

function Document(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({
      format: fc.oneof({ weight: 8, arbitrary: fc.constant("npc-faces-manifest") }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) }),
      formatVersion: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: AnyNumber }),
      model: fc.oneof({ weight: 8, arbitrary: fc.record({ sha256: fc.constant("") , name: fc.string({ maxLength: 6 }) }, { requiredKeys: ["sha256"] }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
      npcs: fc.oneof({ weight: 8, arbitrary: fc.array(Npc, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
    }, { requiredKeys: ["format", "formatVersion", "npcs"] }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

describe("fuzz: face manifests", () => {
  it("any text: BAD_MANIFEST or a manifest", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.json({ maxDepth: 3 })), (text) => {
        try {
          ParseFaceManifest(text, "fuzz.json");
        } catch (error) {
          expect(error).toBeInstanceOf(NpcFacesError);
          expect((error as NpcFacesError).code).toBe("BAD_MANIFEST");
          expect(IsOneLine((error as Error).message.split("\n")[0])).toBe(true);
        }
      }),
      FuzzParameters(1500, 3000),
    );
  });

  it("manifest-shaped documents: refused with BAD_MANIFEST and every problem on its own line, or accepted and generated", async () => {
    let accepted = 0;
    let generated = 0;
    await fc.assert(
      fc.asyncProperty(Document(), fc.boolean(), async (document, asText) => {
        const doc = document as { model?: { sha256?: unknown } };
        if (doc && typeof doc === "object" && doc.model && typeof doc.model === "object" && doc.model.sha256 === "") doc.model.sha256 = sha256;
        let manifest;
        try {
          manifest = ParseFaceManifest(asText ? JSON.stringify(document) ?? "" : document, "fuzz.json");
        } catch (error) {
          expect(error).toBeInstanceOf(NpcFacesError);
          expect((error as NpcFacesError).code).toBe("BAD_MANIFEST");
          const [first, ...problems] = (error as Error).message.split("\n");
          expect(first).toMatch(/^fuzz\.json: (not valid JSON|\d+ problems?:)/);
          for (const line of problems) expect(line.trim().length).toBeGreaterThan(0);
          return;
        }
        accepted++;
        const check = CheckManifestAgainstModel(manifest, generator.metadata, sha256);
        if (check.errors.length > 0 || manifest.npcs.length === 0) return;
        // Accepted and checked: every NPC's face generates.
        const faces = await generator.generateAsync(manifest.npcs.map(ManifestNpcToFaceRequest));
        expect(faces).toHaveLength(manifest.npcs.length);
        generated++;
      }),
      FuzzParameters(600, 6000),
    );
    console.log(`manifest fuzz: ${accepted} accepted, ${generated} generated`);
    expect(accepted).toBeGreaterThan(0);
  });
});
