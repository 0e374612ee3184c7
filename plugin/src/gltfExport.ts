/**
 * `@npc-faces/babylon/gltfExport`: the glTF exporter extension `NPC_faces` (docs/gltf.md). Importing this entry
 * registers it with `@babylonjs/serializers`' `GLTF2Export` (an optional peer dependency): face materials are written
 * with their parameters, and load back with `@npc-faces/babylon/gltf`.
 */
export * from "./npcFaceGltf.js";
export * from "./npcFaceGltfExporterExtension.js";
import { RegisterNpcFacesGltfExporterExtension } from "./npcFaceGltfExporterExtension.js";
RegisterNpcFacesGltfExporterExtension();
