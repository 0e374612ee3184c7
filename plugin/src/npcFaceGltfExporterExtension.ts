/**
 * The glTF 2.0 exporter extension `NPC_faces` (`@babylonjs/serializers`' `GLTF2Export`): a material with an
 * {@link NpcFaceMaterialPlugin} is written with `extensions.NPC_faces` (its parameters, not the texture), and the
 * extension is listed in `extensionsUsed` (not `extensionsRequired`: other viewers load the file without faces).
 * Pure: {@link RegisterNpcFacesGltfExporterExtension} registers it (`@npc-faces/babylon/gltfExport` does on import).
 */
import type { Material } from "@babylonjs/core/Materials/material.pure.js";
import { GLTFExporter } from "@babylonjs/serializers/glTF/2.0/glTFExporter.js";
import type { IGLTFExporterExtensionV2 } from "@babylonjs/serializers/glTF/2.0/glTFExporterExtension.js";
import { NpcFacesGltfExtensionName, NpcFacesGltfExtensionOf } from "./npcFaceGltf.js";
import { NpcFaceMaterialPlugin } from "./npcFaceMaterialPlugin.pure.js";

/** glTF's material JSON, as the exporter hands it to extensions (babylonjs-gltf2interface's `IMaterial`). */
type IMaterial = Parameters<NonNullable<IGLTFExporterExtensionV2["postExportMaterialAsync"]>>[1];

/** Writes each face plugin's parameters into its material's `extensions.NPC_faces`. */
export class NpcFacesGltfExporterExtension implements IGLTFExporterExtensionV2 {
  /** The extension's name, `NPC_faces`. */
  readonly name = NpcFacesGltfExtensionName;
  /** Whether the extension runs. */
  enabled = true;
  /** Never required: a viewer without it shows the material without the face. */
  readonly required = false;
  private _wasUsed = false;
  private _exporter: GLTFExporter | null;

  /** @param exporter the exporter of one file */
  constructor(exporter: GLTFExporter) {
    this._exporter = exporter;
  }

  /** @internal Whether a material had a face (the exporter then lists the extension in `extensionsUsed`). */
  get wasUsed(): boolean {
    return this._wasUsed;
  }

  /** @internal */
  dispose(): void {
    this._exporter = null;
  }

  /** @internal */
  async postExportMaterialAsync(_context: string, node: IMaterial, babylonMaterial: Material): Promise<IMaterial> {
    const plugin = NpcFaceMaterialPlugin.Get(babylonMaterial);
    if (!plugin) return node;
    node.extensions ??= {};
    node.extensions[NpcFacesGltfExtensionName] = NpcFacesGltfExtensionOf(plugin);
    this._wasUsed = true;
    // The face is sampled at the mesh's UVs: without this, a material without textures is exported without them.
    this._exporter?._materialNeedsUVsSet.add(babylonMaterial);
    return node;
  }
}

let Registered = false;

/** Registers {@link NpcFacesGltfExporterExtension} with Babylon's glTF 2.0 exporter (`GLTF2Export`). Idempotent. */
export function RegisterNpcFacesGltfExporterExtension(): void {
  if (Registered) return;
  Registered = true;
  GLTFExporter.UnregisterExtension(NpcFacesGltfExtensionName);
  GLTFExporter.RegisterExtension(NpcFacesGltfExtensionName, (exporter) => new NpcFacesGltfExporterExtension(exporter));
}

/** Removes the exporter extension. */
export function UnregisterNpcFacesGltfExporterExtension(): void {
  Registered = false;
  GLTFExporter.UnregisterExtension(NpcFacesGltfExtensionName);
}
