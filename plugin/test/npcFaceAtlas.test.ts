/**
 * LoadNpcFaceAtlasAsync under NullEngine: per-NPC textures share their page and carry the UV transform that maps
 * a mesh's 0..1 UVs onto the face's rectangle; per-NPC materials.
 */
import { Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import type { Texture } from "@babylonjs/core/Materials/Textures/texture.js";
import { describe, expect, it } from "vitest";
import { LoadNpcFaceAtlasAsync, type NpcFaceAtlasDocument } from "@npc-faces/babylon";
import { CreateNullScene } from "./pluginTestScene.js";

const Doc: NpcFaceAtlasDocument = {
  format: "npc-faces-atlas",
  formatVersion: 1,
  faceSize: 16,
  gutter: 2,
  uvConvention: "babylon-invertY",
  pages: [
    { file: "atlas-0.png", width: 64, height: 48 },
    { file: "atlas-1.png", width: 64, height: 48 },
  ],
  faces: {
    guard: { page: 0, x: 22, y: 2, width: 16, height: 16, uOffset: 22 / 64, vOffset: 1 - 18 / 48, uScale: 16 / 64, vScale: 16 / 48 },
    smith: { page: 1, x: 2, y: 22, width: 16, height: 16, uOffset: 2 / 64, vOffset: 1 - 38 / 48, uScale: 16 / 64, vScale: 16 / 48 },
  },
};

function MapUv(texture: Texture, u: number, v: number): [number, number] {
  // As the shaders do: textureMatrix * vec4(uv, 1.0, 0.0) (the offset sits in the third column).
  const p = Vector3.TransformNormal(new Vector3(u, v, 1), texture.getTextureMatrix());
  return [p.x, p.y];
}

describe("LoadNpcFaceAtlasAsync", () => {
  it("gives each NPC a texture of its page with its UV rectangle, and a material", async () => {
    const { engine, scene } = CreateNullScene();
    const urls: string[] = [];
    const atlas = await LoadNpcFaceAtlasAsync(scene, "https://game.example/faces/npcs/atlas.json", {
      loadJsonAsync: async (url) => {
        urls.push(url);
        return Doc;
      },
    });
    expect(urls).toEqual(["https://game.example/faces/npcs/atlas.json"]);
    expect(atlas.pages.map((p) => p.url)).toEqual(["https://game.example/faces/npcs/atlas-0.png", "https://game.example/faces/npcs/atlas-1.png"]);
    const guard = atlas.textures.get("guard")!;
    expect(guard.url).toBe(atlas.pages[0].url);
    expect(guard.getInternalTexture()).toBe(atlas.pages[0].getInternalTexture()); // one GPU texture per page
    expect(guard.invertY).toBe(true);
    // Mesh UV (0,0)..(1,1) -> the face's rectangle in the page's UV space (v up, invertY).
    const [u0, v0] = MapUv(guard, 0, 0);
    const [u1, v1] = MapUv(guard, 1, 1);
    expect(u0).toBeCloseTo(22 / 64, 6);
    expect(u1).toBeCloseTo(38 / 64, 6);
    expect(v0).toBeCloseTo(1 - 18 / 48, 6); // bottom edge of the face = image row 18 from the top
    expect(v1).toBeCloseTo(1 - 2 / 48, 6); // top edge = image row 2
    expect(atlas.textures.get("smith")!.url).toBe(atlas.pages[1].url);
    const material = atlas.materials.get("smith") as StandardMaterial;
    expect(material).toBeInstanceOf(StandardMaterial);
    expect(material.name).toBe("npcFace:smith");
    expect(material.diffuseTexture).toBe(atlas.textures.get("smith"));
    atlas.dispose();
    expect(scene.materials).toHaveLength(0);
    scene.dispose();
    engine.dispose();
  });

  it("refuses a document that is not an atlas", async () => {
    const { engine, scene } = CreateNullScene();
    await expect(LoadNpcFaceAtlasAsync(scene, "faces/atlas.json", { loadJsonAsync: async () => ({ format: "other" }) })).rejects.toThrow(/faces\/atlas\.json: not an npc-faces atlas/);
    engine.dispose();
  });
});
