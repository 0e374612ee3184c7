/**
 * The plugin side of the face manifest (docs/manifest.md): the level designer locks a face in the seed editor,
 * the game gives that entry to an NPC's material.
 */
import type { ManifestNpc } from "@npc-faces/runtime";
import type { NpcFaceMaterialPlugin } from "./npcFaceMaterialPlugin.pure.js";

/**
 * Sets a material's face parameters (seed, breeding, truncation, noise, controls, labels) from a manifest entry,
 * so that the material shows exactly the face the designer locked: `plugin.request` resolves to the same inputs as
 * `ManifestNpcToFaceRequest(npc)`. Fields the entry leaves out go back to the model's defaults (controls and labels
 * set before are reset too), so applying entries one after the other never leaks a value from the previous one.
 * Only changed values regenerate the face (one regeneration, debounced).
 */
export function ApplyManifestEntry(plugin: NpcFaceMaterialPlugin, npc: ManifestNpc): void {
  plugin.seed = npc.seed;
  if (npc.mixSeed !== undefined) {
    plugin.mixSeed = npc.mixSeed;
    // The runtime's defaults for a request with a mix seed: everything mixed, fully.
    plugin.mix = npc.mix ?? 1;
    plugin.mixCrossover = npc.mixCrossover ?? 0;
  } else {
    plugin.mix = 0;
    plugin.mixSeed = 0;
    plugin.mixCrossover = 0;
  }
  // The plugin keeps psi / noise strength "unset" (= the model's default) as undefined behind its number setters.
  const optional = plugin as unknown as { psi: number | undefined; noiseStrength: number | undefined };
  optional.psi = npc.psi;
  optional.noiseStrength = npc.noiseStrength;

  const metadata = plugin.system?.metadata;
  const wanted = npc.controls ?? {};
  for (const name of Object.keys(plugin.controls)) {
    // A control set earlier but absent here: back to its default (the same resolved input as leaving it out).
    if (!(name in wanted)) plugin.setControl(name, metadata?.controls.find((c) => c.name === name)?.default ?? 0);
  }
  for (const [name, value] of Object.entries(wanted)) plugin.setControl(name, value);

  const labels = npc.labels ?? {};
  for (const attribute of metadata?.labels ?? []) {
    if (!(attribute.name in labels)) plugin.setLabel(attribute.name, undefined);
  }
  for (const [name, value] of Object.entries(labels)) plugin.setLabel(name, value);
}
