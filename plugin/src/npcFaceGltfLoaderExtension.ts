/**
 * The glTF 2.0 loader extension `NPC_faces` (`@babylonjs/loaders`): a material whose glTF JSON carries
 * `extensions.NPC_faces` (or `extras.NPC_faces`) gets an {@link NpcFaceMaterialPlugin} with those parameters.
 * Pure: {@link RegisterNpcFacesGltfLoaderExtension} registers it (`@npc-faces/babylon/gltf` does on import).
 */
import type { Material } from "@babylonjs/core/Materials/material.pure.js";
import type { Nullable } from "@babylonjs/core/types.js";
import type { GLTFLoader } from "@babylonjs/loaders/glTF/2.0/glTFLoader.pure.js";
import type { IGLTFLoaderExtension } from "@babylonjs/loaders/glTF/2.0/glTFLoaderExtension.js";
import { registerGLTFExtension, unregisterGLTFExtension } from "@babylonjs/loaders/glTF/2.0/glTFLoaderExtensionRegistry.js";
import type { IMaterial } from "@babylonjs/loaders/glTF/2.0/glTFLoaderInterfaces.js";
import { ApplyNpcFacesGltfExtension, NpcFacesGltfError, NpcFacesGltfExtensionName, ParseNpcFacesGltfExtension } from "./npcFaceGltf.js";
import { NpcFaceMaterialPlugin } from "./npcFaceMaterialPlugin.pure.js";

/**
 * Gives glTF materials their NPC face. The scene's {@link NpcFaceSystem} (created before or after loading) generates
 * the faces; `scene.whenReadyAsync()` after loading waits for them like for any other face plugin.
 *
 * A bad `NPC_faces` object (wrong types, out of range, unknown fields) rejects the load with an
 * {@link NpcFacesGltfError} naming the material and every bad field. Parameters that depend on the model (control
 * names, label values) are checked when the face is generated: `BAD_REQUEST` on the system's `onErrorObservable`,
 * naming the material, and the fallback texture meanwhile.
 */
export class NpcFacesGltfLoaderExtension implements IGLTFLoaderExtension {
  /** The extension's name, `NPC_faces`. */
  readonly name = NpcFacesGltfExtensionName;
  /** Whether the extension runs (Babylon's `extensionOptions: { NPC_faces: { enabled: false } }` turns it off). */
  enabled = true;
  /** After Babylon's own material extensions (which run at 100..200). */
  order = 300;
  /** Also read `extras.NPC_faces` (tools that write custom properties as extras, e.g. Blender's exporter). Default true. */
  readExtras = true;
  private _loader: GLTFLoader | null;

  /** @param loader the glTF loader that loads one file */
  constructor(loader: GLTFLoader) {
    this._loader = loader;
  }

  /** @internal */
  dispose(): void {
    this._loader = null;
  }

  /** @internal Loads the material's own properties, then adds the face plugin. */
  loadMaterialPropertiesAsync(context: string, material: IMaterial, babylonMaterial: Material): Nullable<Promise<void>> {
    const fromExtension = material.extensions?.[NpcFacesGltfExtensionName];
    const fromExtras = this.readExtras && material.extras && typeof material.extras === "object" ? (material.extras as Record<string, unknown>)[NpcFacesGltfExtensionName] : undefined;
    if (fromExtension === undefined && fromExtras === undefined) return null;
    const loader = this._loader!;
    const where = `material "${material.name ?? babylonMaterial.name}" (${context}/${fromExtension !== undefined ? "extensions" : "extras"}/${NpcFacesGltfExtensionName})`;
    return (async () => {
      // Checked before anything else loads, so that a bad file fails fast and leaves no half-made plugin.
      const parameters = ParseNpcFacesGltfExtension(fromExtension ?? fromExtras, where);
      await loader.loadMaterialPropertiesAsync(context, material, babylonMaterial);
      let plugin: NpcFaceMaterialPlugin;
      try {
        plugin = NpcFaceMaterialPlugin.Get(babylonMaterial) ?? new NpcFaceMaterialPlugin(babylonMaterial);
      } catch (error) {
        // E.g. an OpenPBRMaterial (the loader's useOpenPBR): the plugin supports Standard and PBR materials.
        const message = error instanceof Error ? error.message : String(error);
        const hint = babylonMaterial.getClassName() === "OpenPBRMaterial" ? " (the glTF loader's useOpenPBR option makes OpenPBRMaterials: load without it)" : "";
        throw new NpcFacesGltfError(where, [`${message}${hint}`]);
      }
      ApplyNpcFacesGltfExtension(plugin, parameters);
    })();
  }
}

let Registered = false;

/**
 * Registers {@link NpcFacesGltfLoaderExtension} with Babylon's glTF 2.0 loader, for every glTF file (so that
 * `extras.NPC_faces` works in files that do not list the extension). Idempotent. The glTF loader itself is the game's
 * to register (`import "@babylonjs/loaders/glTF/2.0/index.js"`, or `registerBuiltInLoaders()`).
 */
export function RegisterNpcFacesGltfLoaderExtension(): void {
  if (Registered) return;
  Registered = true;
  unregisterGLTFExtension(NpcFacesGltfExtensionName);
  registerGLTFExtension(NpcFacesGltfExtensionName, false, (loader) => new NpcFacesGltfLoaderExtension(loader));
}

/** Removes the loader extension (files load without faces again). */
export function UnregisterNpcFacesGltfLoaderExtension(): void {
  Registered = false;
  unregisterGLTFExtension(NpcFacesGltfExtensionName);
}
