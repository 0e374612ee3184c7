import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FaceManifestJsonSchema, FaceManifestJsonSchemaFile, ManifestProblems, ParseFaceManifest } from "@npc-faces/runtime";

const Published = new URL(`../schema/${FaceManifestJsonSchemaFile}`, import.meta.url);
const Manifest = { format: "npc-faces-manifest", formatVersion: 1, model: { sha256: "a".repeat(64) }, npcs: [{ id: "guard", name: "Guard", seed: 7, mix: 0.5 }] };

describe("the manifest's JSON Schema", () => {
  it("the published file is what the zod schema generates (regenerate: node runtime/scripts/writeManifestSchema.mjs after a build)", () => {
    expect(JSON.parse(readFileSync(Published, "utf8"))).toEqual(FaceManifestJsonSchema());
  });

  it("states the bounds the validator checks and refuses unknown keys", () => {
    const schema = FaceManifestJsonSchema() as { properties: Record<string, unknown>; additionalProperties: unknown; required: string[] };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(["format", "formatVersion", "model", "npcs"]));
    const npc = (schema.properties.npcs as { items: { properties: Record<string, Record<string, unknown>> } }).items.properties;
    expect(npc.seed).toMatchObject({ type: "integer", minimum: 0, maximum: 4294967295 });
    expect(npc.mix).toMatchObject({ minimum: 0, maximum: 1 });
    expect(schema.properties.$schema).toEqual({ type: "string" });
  });

  it("a manifest may name its schema with $schema; other unknown keys are still refused", () => {
    const withSchema = { $schema: "./node_modules/@npc-faces/runtime/schema/face-manifest.schema.json", ...Manifest };
    expect(ManifestProblems(withSchema)).toEqual([]);
    expect(ParseFaceManifest(JSON.stringify(withSchema)).$schema).toBe(withSchema.$schema);
    expect(ManifestProblems({ ...Manifest, schema: "x" }).join("\n")).toMatch(/schema/);
    expect(ManifestProblems({ ...Manifest, $schema: 3 }).join("\n")).toMatch(/\$schema/);
  });
});
