/**
 * The procedural head (NullEngine): its size and outward normals, its UV layout (the face's centre at the front, the
 * face image's eyes at mid-height and chin at the bottom, the opaque face on the front half), and
 * `NpcHeadComposition` on both face plugins.
 */
import { describe, expect, it } from "vitest";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { VertexBuffer } from "@babylonjs/core/Buffers/buffer.js";
import { CreateNpcHead, NpcFaceCrowd, NpcFaceCrowdMaterialPlugin, NpcFaceMaterialPlugin, NpcHeadComposition } from "@npc-faces/babylon";
import { CreateNullScene } from "./pluginTestScene.js";

/** Head UV of a point of the face image (its UV, v = 1 at the top), through the composition's face rectangle. */
function HeadUvOf(u: number, v: number): [number, number] {
  const rect = NpcHeadComposition.faceRect;
  return [rect.x + u * rect.width, rect.y + v * rect.height];
}

function Vertices(size: number): { positions: Float32Array | number[]; normals: Float32Array | number[]; uvs: Float32Array | number[]; count: number } {
  const { scene } = CreateNullScene();
  const head = CreateNpcHead("head", { size }, scene);
  const positions = head.getVerticesData(VertexBuffer.PositionKind)!;
  return { positions, normals: head.getVerticesData(VertexBuffer.NormalKind)!, uvs: head.getVerticesData(VertexBuffer.UVKind)!, count: positions.length / 3 };
}

/** The vertex whose UV is nearest (u, v). */
function NearestVertex(mesh: ReturnType<typeof Vertices>, u: number, v: number): [number, number, number] {
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < mesh.count; i++) {
    const distance = (mesh.uvs[i * 2] - u) ** 2 + (mesh.uvs[i * 2 + 1] - v) ** 2;
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  }
  return [mesh.positions[best * 3], mesh.positions[best * 3 + 1], mesh.positions[best * 3 + 2]];
}

describe("CreateNpcHead", () => {
  it("is `size` from chin to crown, 0.8 of it wide, with outward normals", () => {
    const mesh = Vertices(2);
    const extent = (axis: number): [number, number] => {
      let [min, max] = [Infinity, -Infinity];
      for (let i = 0; i < mesh.count; i++) [min, max] = [Math.min(min, mesh.positions[i * 3 + axis]), Math.max(max, mesh.positions[i * 3 + axis])];
      return [min, max];
    };
    const [bottom, top] = extent(1);
    expect(top - bottom).toBeCloseTo(2, 1);
    const [left, right] = extent(0);
    expect(right - left).toBeGreaterThan(1.5);
    expect(right - left).toBeLessThan(1.8);
    expect(right + left).toBeCloseTo(0, 5);
    for (let i = 0; i < mesh.count; i++) {
      const dot = mesh.positions[i * 3] * mesh.normals[i * 3] + mesh.positions[i * 3 + 1] * mesh.normals[i * 3 + 1] + mesh.positions[i * 3 + 2] * mesh.normals[i * 3 + 2];
      expect(dot, `vertex ${i}`).toBeGreaterThan(0);
    }
  });

  it("maps the face image onto the front: centre at UV (0.5, 0.5), eyes at mid-height, chin at the bottom, the opaque face on the front half", () => {
    const mesh = Vertices(1);
    expect([mesh.uvs[0], mesh.uvs[1]]).toEqual([0.5, 0.5]);
    expect(mesh.positions[2]).toBeLessThan(-0.4);
    const [leftEyeX, leftEyeY] = NearestVertex(mesh, ...HeadUvOf(0.3, 0.5));
    const [rightEyeX, rightEyeY] = NearestVertex(mesh, ...HeadUvOf(0.7, 0.5));
    expect(Math.abs(leftEyeY)).toBeLessThan(0.03);
    expect(leftEyeX).toBeCloseTo(-rightEyeX, 5);
    expect(rightEyeY).toBeCloseTo(leftEyeY, 5);
    expect(leftEyeX).toBeLessThan(-0.1); // +x is the viewer's right: the image is not mirrored
    const [, chinY] = NearestVertex(mesh, ...HeadUvOf(0.5, 0.04));
    expect(chinY).toBeLessThan(-0.42);
    // Every vertex where the face is opaque (inside the mask's feather) is on the front half, facing forwards.
    const { faceRect, maskRect, maskFeather } = NpcHeadComposition;
    let inside = 0;
    for (let i = 0; i < mesh.count; i++) {
      const u = ((mesh.uvs[i * 2] - faceRect.x) / faceRect.width - maskRect.x) / maskRect.width;
      const v = ((mesh.uvs[i * 2 + 1] - faceRect.y) / faceRect.height - maskRect.y) / maskRect.height;
      const radius = Math.hypot(u - 0.5, v - 0.5) * 2;
      if (radius >= 1 - maskFeather) continue;
      inside++;
      expect(mesh.positions[i * 3 + 2], `vertex ${i}`).toBeLessThan(0);
      expect(mesh.normals[i * 3 + 2], `vertex ${i}`).toBeLessThan(-0.35);
    }
    expect(inside).toBeGreaterThan(100);
  });

  it("NpcHeadComposition applies to both face plugins", () => {
    const { scene } = CreateNullScene();
    const plugins = [new NpcFaceMaterialPlugin(new StandardMaterial("one", scene)), new NpcFaceCrowdMaterialPlugin(new StandardMaterial("crowd", scene), new NpcFaceCrowd(scene, { capacity: 1 }))];
    for (const plugin of plugins) {
      Object.assign(plugin, NpcHeadComposition);
      expect({ faceRect: plugin.faceRect, maskRect: plugin.maskRect, maskShape: plugin.maskShape, maskFeather: plugin.maskFeather, skinFromFace: plugin.skinFromFace, flipV: plugin.flipV }).toEqual(NpcHeadComposition);
    }
    scene.dispose();
  });
});
