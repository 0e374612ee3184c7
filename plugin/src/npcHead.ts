/**
 * A procedural head whose UV layout receives a generated face: `CreateNpcHead` builds the mesh, `NpcHeadComposition`
 * holds the face plugin settings that put the face on its front and the face's own skin tone everywhere else. For
 * prototypes, crowds seen from afar and tests; a game's own heads need only their face region's UV rectangle.
 */
import { VertexBuffer } from "@babylonjs/core/Buffers/buffer.pure.js";
import { Mesh } from "@babylonjs/core/Meshes/mesh.pure.js";
import { VertexData } from "@babylonjs/core/Meshes/mesh.vertexData.js";
import type { Scene } from "@babylonjs/core/scene.pure.js";
import type { NpcFaceRect } from "./npcFaceCompositionPluginBase.js";

/** Options of {@link CreateNpcHead}. */
export interface NpcHeadOptions {
  /** Height from chin to crown, in scene units (default 1); width 0.8 and depth 0.9 of it. */
  readonly size?: number;
  /** Vertices around each ring (default 32, at least 8); rings from the face's centre to the back are 3/4 of it. */
  readonly segments?: number;
}

/**
 * Where the face image goes in the head's UV space: the face's eyes at the head's mid-height, its chin at the bottom of
 * the face, its width over the front (the mask reaches about 70 degrees either side of the nose).
 */
const FaceRect: NpcFaceRect = { x: 0.175, y: 0.24, width: 0.65, height: 0.52 };

/**
 * The face plugin settings (`NpcFaceMaterialPlugin` or `NpcFaceCrowdMaterialPlugin`) for a {@link CreateNpcHead}
 * mesh: `Object.assign(plugin, NpcHeadComposition)`. The face rectangle covers the front; the mask is an ellipse
 * fitted to the skin of the default model's faces (chin to hairline, cheek to cheek: the eyes stay opaque, the hair
 * and background fade out), feathered over its outer quarter; outside it the head's albedo takes the face's skin tone
 * (`skinFromFace`), so a white or grey-scale head material shows each face's own skin all around.
 */
export const NpcHeadComposition = {
  faceRect: FaceRect,
  maskRect: { x: 0.14, y: 0.02, width: 0.72, height: 0.76 } as NpcFaceRect,
  maskShape: "ellipse",
  maskFeather: 0.25,
  skinFromFace: true,
  flipV: false,
} as const;

const HalfWidth = 0.4;
const HalfHeight = 0.5;
const HalfDepth = 0.45;

/**
 * The head's surface point for a unit direction `d` from its centre (y up, the face towards -z): an ellipsoid pushed
 * out around the face's centre (a flatter front) and at the mouth and chin, narrowed towards the jaw, with a nose
 * where the face image has one.
 */
function HeadPoint(dx: number, dy: number, dz: number): [number, number, number] {
  const front = Math.acos(Math.min(1, Math.max(-1, -dz))); // angle from the face's centre
  // sin^2(2a) is flat at the centre and at the sides: the front flattens without a crease.
  let radius = front < Math.PI / 2 ? 1 + 0.16 * Math.sin(2 * front) ** 2 : 1;
  // The nose of the face image (its v 0.28) lands at the head's v 0.386, direction (0, -0.457, -0.889).
  const nose = Math.acos(Math.min(1, -0.457 * dy - 0.889 * dz));
  radius += 0.05 * Math.exp(-((nose / 0.13) ** 2));
  // Mouth and chin forward, so the lower face is not foreshortened as the ellipsoid curves under.
  const chin = Math.acos(Math.min(1, -0.6 * dy - 0.8 * dz));
  radius += 0.1 * Math.exp(-((chin / 0.45) ** 2));
  const jaw = 1 - 0.2 * SmoothStep(-0.1, -1, dy);
  return [dx * radius * HalfWidth * jaw, dy * radius * HalfHeight, dz * radius * HalfDepth];
}

function SmoothStep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/**
 * UV of a direction at angle `front` from the face's centre and `around` about the z axis: an orthographic view of the
 * front half (radius 0.25 around (0.5, 0.5), so the face is undistorted from the front), the back half on the ring
 * from 0.25 to 0.5, the back pole on its outer edge.
 */
function HeadUv(front: number, around: number): [number, number] {
  const radius = 0.25 * (front <= Math.PI / 2 ? Math.sin(front) : 2 - Math.sin(front));
  return [0.5 + radius * Math.cos(around), 0.5 + radius * Math.sin(around)];
}

/**
 * Builds a head mesh (positions, normals, one UV set, centred on its origin, facing -z) whose front receives a face
 * with {@link NpcHeadComposition}. Rings run around the axis through the face's centre, so the UVs are seamless except
 * at the back pole, where the face never reaches.
 * @param name the mesh's name
 * @param options size and tessellation
 * @param scene the scene
 */
export function CreateNpcHead(name: string, options: NpcHeadOptions, scene: Scene): Mesh {
  const size = options.size ?? 1;
  const segments = Math.max(8, Math.round(options.segments ?? 32));
  const rings = Math.max(4, Math.round(segments * 0.75));
  const positions: number[] = [];
  const uvs: number[] = [];
  const indices: number[] = [];
  const add = (front: number, around: number): void => {
    const s = Math.sin(front);
    const [x, y, z] = HeadPoint(s * Math.cos(around), s * Math.sin(around), -Math.cos(front));
    positions.push(x * size, y * size, z * size);
    uvs.push(...HeadUv(front, around));
  };
  // Vertex 0: the face's centre; then rings 1..rings-1 of `segments` vertices; then one back-pole vertex per segment
  // (each with the UV of its wedge).
  add(0, 0);
  for (let ring = 1; ring < rings; ring++) for (let k = 0; k < segments; k++) add((Math.PI * ring) / rings, (2 * Math.PI * k) / segments);
  const back = positions.length / 3;
  for (let k = 0; k < segments; k++) add(Math.PI, (2 * Math.PI * (k + 0.5)) / segments);
  const at = (ring: number, k: number): number => 1 + (ring - 1) * segments + (k % segments);
  // Clockwise seen from outside: Babylon's front faces (default side orientation).
  for (let k = 0; k < segments; k++) indices.push(0, at(1, k), at(1, k + 1));
  for (let ring = 1; ring < rings - 1; ring++) {
    for (let k = 0; k < segments; k++) indices.push(at(ring, k), at(ring + 1, k + 1), at(ring, k + 1), at(ring, k), at(ring + 1, k), at(ring + 1, k + 1));
  }
  for (let k = 0; k < segments; k++) indices.push(at(rings - 1, k), back + k, at(rings - 1, k + 1));
  const normals: number[] = [];
  VertexData.ComputeNormals(positions, indices, normals);
  // The back pole's vertices share one position: one normal, straight back, instead of one per wedge.
  for (let k = 0; k < segments; k++) normals.splice((back + k) * 3, 3, 0, 0, 1);
  const mesh = new Mesh(name, scene);
  mesh.setVerticesData(VertexBuffer.PositionKind, positions);
  mesh.setVerticesData(VertexBuffer.NormalKind, normals);
  mesh.setVerticesData(VertexBuffer.UVKind, uvs);
  mesh.setIndices(indices);
  return mesh;
}
