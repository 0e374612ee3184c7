// Writes npcFaces.gltf: three 1x1 quads (glTF UVs: (0, 0) = the top left of an image), each with a material that
// carries the NPC_faces extension (docs/gltf.md). Run: node plugin/examples/writeExample.mjs
import { writeFileSync } from "node:fs";

const positions = [-0.5, -0.5, 0, 0.5, -0.5, 0, 0.5, 0.5, 0, -0.5, 0.5, 0];
const normals = [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1];
const uvs = [0, 1, 1, 1, 1, 0, 0, 0];
const indices = [0, 1, 2, 0, 2, 3]; // counter-clockwise seen from +Z, glTF's front
const bytes = Buffer.concat([
  Buffer.from(new Float32Array(positions).buffer),
  Buffer.from(new Float32Array(normals).buffer),
  Buffer.from(new Float32Array(uvs).buffer),
  Buffer.from(new Uint16Array(indices).buffer),
  Buffer.alloc(4), // pad to 4 bytes
]).subarray(0, 140);

const materials = [
  { name: "guard", NPC_faces: { seed: 42, psi: 0.7, controls: { direction_0: 1.5 } } },
  { name: "smith", NPC_faces: { seed: 9001, mixSeed: 7, mix: 1, mixCrossover: 2 } },
  {
    name: "villager",
    baseColorFactor: [0.8, 0.6, 0.45, 1], // the "head": the face sits in an ellipse on it
    NPC_faces: { seed: 5, faceRect: { x: 0.2, y: 0.1, width: 0.6, height: 0.8 }, maskShape: "ellipse", maskFeather: 0.15 },
  },
];

const gltf = {
  asset: { version: "2.0", generator: "npc-faces plugin/examples/writeExample.mjs" },
  extensionsUsed: ["NPC_faces"],
  scene: 0,
  scenes: [{ nodes: [0, 1, 2] }],
  nodes: materials.map((m, i) => ({ name: m.name, mesh: i, translation: [(i - 1) * 1.2, 0, 0] })),
  meshes: materials.map((m, i) => ({ name: m.name, primitives: [{ attributes: { POSITION: 0, NORMAL: 1, TEXCOORD_0: 2 }, indices: 3, material: i }] })),
  materials: materials.map((m) => ({
    name: m.name,
    pbrMetallicRoughness: { baseColorFactor: m.baseColorFactor ?? [1, 1, 1, 1], metallicFactor: 0, roughnessFactor: 1 },
    extensions: { NPC_faces: m.NPC_faces },
  })),
  // One buffer view per accessor (glTF requires byteStride on a buffer view that several vertex attributes share).
  accessors: [
    { bufferView: 0, componentType: 5126, count: 4, type: "VEC3", min: [-0.5, -0.5, 0], max: [0.5, 0.5, 0] },
    { bufferView: 1, componentType: 5126, count: 4, type: "VEC3" },
    { bufferView: 2, componentType: 5126, count: 4, type: "VEC2" },
    { bufferView: 3, componentType: 5123, count: 6, type: "SCALAR" },
  ],
  bufferViews: [
    { buffer: 0, byteOffset: 0, byteLength: 48, target: 34962 },
    { buffer: 0, byteOffset: 48, byteLength: 48, target: 34962 },
    { buffer: 0, byteOffset: 96, byteLength: 32, target: 34962 },
    { buffer: 0, byteOffset: 128, byteLength: 12, target: 34963 },
  ],
  buffers: [{ byteLength: 140, uri: `data:application/octet-stream;base64,${bytes.toString("base64")}` }],
};

// Arrays of numbers on one line each.
const json = JSON.stringify(gltf, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, inner) => `[${inner.split(/,\s+/).join(", ")}]`);
writeFileSync(new URL("./npcFaces.gltf", import.meta.url), `${json}\n`);
