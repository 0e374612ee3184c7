/**
 * `@npc-faces/babylon/gltf`: the glTF loader extension `NPC_faces` (docs/gltf.md). Importing this entry registers it
 * with `@babylonjs/loaders`' glTF 2.0 loader (an optional peer dependency: only games that load glTF install and
 * bundle it). Materials with `extensions.NPC_faces` (or `extras.NPC_faces`) get an `NpcFaceMaterialPlugin`.
 */
export * from "./npcFaceGltf.js";
export * from "./npcFaceGltfLoaderExtension.js";
import { RegisterNpcFacesGltfLoaderExtension } from "./npcFaceGltfLoaderExtension.js";
RegisterNpcFacesGltfLoaderExtension();
