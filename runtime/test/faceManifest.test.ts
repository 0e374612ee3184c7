import { describe, expect, it } from "vitest";
import { CheckManifestAgainstModel, IsNpcFacesError, ManifestNpcToFaceRequest, ManifestProblems, ParseFaceManifest, type ModelMetadata } from "@npc-faces/runtime";

const Hash = "ab".repeat(32);
const Valid = {
  format: "npc-faces-manifest",
  formatVersion: 1,
  model: { sha256: Hash, name: "game64" },
  npcs: [
    { id: "guard_01", name: "Gate guard", seed: 42, psi: 0.7, controls: { direction_0: 1.5 } },
    { id: "smith", name: "Smith", seed: 4294967295, mixSeed: 7, mix: 0.5, mixCrossover: 4, noiseStrength: 0 },
  ],
};

describe("face manifest", () => {
  it("accepts a valid manifest, from text or value", () => {
    expect(ParseFaceManifest(JSON.stringify(Valid)).npcs).toHaveLength(2);
    expect(ParseFaceManifest(Valid).model.sha256).toBe(Hash);
  });

  it("reports every problem with its path", () => {
    const bad = {
      ...Valid,
      npcs: [
        { id: "../escape", name: "x", seed: -1 },
        { id: "ok", name: "y", seed: 1.5, mix: 2, colour: "red" },
        { id: "ok", name: "z", seed: 3 },
      ],
    };
    const problems = ManifestProblems(bad);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^npcs\[0\]\.id: expected an id/),
        "npcs[0].seed: expected an integer in 0..4294967295",
        "npcs[1].seed: expected an integer in 0..4294967295",
        "npcs[1].mix: expected a number in 0..1",
        expect.stringMatching(/^npcs\[1\]: .*colour/),
        'npcs[2].id: duplicate id "ok" (also npcs[1])',
      ]),
    );
    try {
      ParseFaceManifest(bad, "npcs.json");
      expect.unreachable();
    } catch (error) {
      expect(IsNpcFacesError(error, "BAD_MANIFEST")).toBe(true);
      expect((error as Error).message).toMatch(/^npcs\.json: 6 problems:\n {2}npcs\[0\]\.id/);
    }
  });

  it("rejects non-JSON, a wrong format, a newer version and a bad hash", () => {
    expect(() => ParseFaceManifest("{", "m.json")).toThrow(/^m\.json: not valid JSON/);
    expect(ManifestProblems({ ...Valid, format: "other" })[0]).toMatch(/^format: /);
    expect(ManifestProblems({ ...Valid, formatVersion: 2 })).toEqual(["formatVersion: 2 is newer than this version of npc-faces reads (1); upgrade npc-faces"]);
    expect(ManifestProblems({ ...Valid, model: { sha256: "xyz" } })).toEqual(["model.sha256: expected a lowercase SHA-256 hex string"]);
    expect(ManifestProblems([])[0]).toMatch(/^\(manifest\): /);
  });

  it("turns an entry into a face request without identity fields", () => {
    expect(ManifestNpcToFaceRequest(ParseFaceManifest(Valid).npcs[1])).toEqual({ seed: 4294967295, mixSeed: 7, mix: 0.5, mixCrossover: 4, noiseStrength: 0 });
  });

  it("checks a manifest against a model: other hash warns, unknown controls are errors", () => {
    const metadata = { name: "m", numWs: 10, controls: [{ name: "direction_0" }], labels: [] } as unknown as ModelMetadata;
    const manifest = ParseFaceManifest({ ...Valid, npcs: [...Valid.npcs, { id: "x", name: "x", seed: 1, controls: { smile: 1 }, mixCrossover: 11 }] });
    const same = CheckManifestAgainstModel(manifest, metadata, Hash);
    expect(same.warnings).toEqual([]);
    expect(same.errors).toEqual(["npcs[2].controls.smile: unknown control (known: direction_0)", "npcs[2].mixCrossover: expected an integer in 0..10"]);
    expect(CheckManifestAgainstModel(manifest, metadata, "cd".repeat(32)).warnings[0]).toMatch(/^model\.sha256: the manifest was saved for model abababababab/);
  });
});
