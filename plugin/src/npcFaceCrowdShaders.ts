/**
 * The shader code of {@link NpcFaceCrowdMaterialPlugin}: the face is read from a texture array at the layer given by
 * the per-instance attribute `npcFaceLayer` (layer + 1; 0 = no face yet, a neutral grey like the fallback texture).
 * GLSL for WebGL2, WGSL for WebGPU. Same colour handling as the per-material plugin (see npcFaceShaders.ts).
 */

import { NpcFaceToGammaDefinition, PbrFaceCode, StandardFaceCode, type NpcFaceSource } from "./npcFaceShaders.js";

/** Name of the texture-array sampler (WGSL also declares `npcFaceLayersSamplerSampler`). */
export const NpcFaceLayersSamplerName = "npcFaceLayersSampler";

const GlslVertex = {
  CUSTOM_VERTEX_DEFINITIONS: `#ifdef NPCFACECROWD_INSTANCED
attribute float npcFaceLayer;
varying float vNpcFaceLayer;
#endif
`,
  CUSTOM_VERTEX_MAIN_END: `#ifdef NPCFACECROWD_INSTANCED
vNpcFaceLayer = npcFaceLayer;
#endif
`,
};

const WgslVertex = {
  CUSTOM_VERTEX_DEFINITIONS: `#ifdef NPCFACECROWD_INSTANCED
attribute npcFaceLayer: f32;
varying vNpcFaceLayer: f32;
#endif
`,
  CUSTOM_VERTEX_MAIN_END: `#ifdef NPCFACECROWD_INSTANCED
vertexOutputs.vNpcFaceLayer = vertexInputs.npcFaceLayer;
#endif
`,
};

const GlslDefinitions = `#ifdef NPCFACECROWD
uniform highp sampler2DArray npcFaceLayersSampler;
${NpcFaceToGammaDefinition(false)}#ifdef NPCFACECROWD_INSTANCED
varying float vNpcFaceLayer;
#endif
#endif
`;

const WgslDefinitions = `#ifdef NPCFACECROWD
var npcFaceLayersSamplerSampler: sampler;
var npcFaceLayersSampler: texture_2d_array<f32>;
${NpcFaceToGammaDefinition(true)}#ifdef NPCFACECROWD_INSTANCED
varying vNpcFaceLayer: f32;
#endif
#endif
`;

// The layer, then the shared composition code (npcFaceShaders.ts) reads the array at `npcFaceUV` (and the skin samples)
// in that layer.
// Sampled unconditionally (at layer 0 when there is none) and replaced by grey afterwards: WGSL allows textureSample
// only in uniform control flow, and GLSL's derivatives for mipmaps need it too.
const GlslSource: NpcFaceSource = {
  definitions: GlslDefinitions,
  prelude: `#ifdef NPCFACECROWD_INSTANCED
float npcFaceLayer = floor(vNpcFaceLayer + 0.5) - 1.0;
#else
float npcFaceLayer = -1.0;
#endif
`,
  fetch: "texture(npcFaceLayersSampler, vec3(npcFaceUV, max(npcFaceLayer, 0.0)))",
  fetchLevel: (uv) => `textureLod(npcFaceLayersSampler, vec3(${uv}, max(npcFaceLayer, 0.0)), npcFaceMaskParams.z)`,
  post: `#ifdef NPCFACE_SRGB
npcFace = npcFaceLayer < 0.0 ? vec4(0.214, 0.214, 0.214, 1.0) : npcFace;
#else
npcFace = npcFaceLayer < 0.0 ? vec4(0.5, 0.5, 0.5, 1.0) : npcFace;
#endif
#ifdef NPCFACE_SKIN
npcFaceSkin = npcFaceLayer < 0.0 ? npcFace : npcFaceSkin;
#endif
`,
};

const WgslSource: NpcFaceSource = {
  definitions: WgslDefinitions,
  prelude: `#ifdef NPCFACECROWD_INSTANCED
var npcFaceLayer: f32 = floor(fragmentInputs.vNpcFaceLayer + 0.5) - 1.0;
#else
var npcFaceLayer: f32 = -1.0;
#endif
`,
  fetch: "textureSample(npcFaceLayersSampler, npcFaceLayersSamplerSampler, npcFaceUV, i32(max(npcFaceLayer, 0.0)))",
  fetchLevel: (uv) => `textureSampleLevel(npcFaceLayersSampler, npcFaceLayersSamplerSampler, ${uv}, i32(max(npcFaceLayer, 0.0)), uniforms.npcFaceMaskParams.z)`,
  post: `#ifdef NPCFACE_SRGB
npcFace = select(npcFace, vec4f(0.214, 0.214, 0.214, 1.0), npcFaceLayer < 0.0);
#else
npcFace = select(npcFace, vec4f(0.5, 0.5, 0.5, 1.0), npcFaceLayer < 0.0);
#endif
#ifdef NPCFACE_SKIN
npcFaceSkin = select(npcFaceSkin, npcFace, npcFaceLayer < 0.0);
#endif
`,
};

/**
 * Vertex and fragment code for one material family and shader language. The crowd plugin sets `NPCFACE` (and the
 * composition defines) as well as `NPCFACECROWD`, so the fragment code is the per-material plugin's with the array as
 * its source: UV set, UV transform, face rectangle and mask work the same (a material carries one of the two plugins).
 */
export function CrowdFaceCode(shaderType: string, wgsl: boolean, pbr: boolean): Record<string, string> | null {
  if (shaderType === "vertex") return wgsl ? WgslVertex : GlslVertex;
  if (shaderType !== "fragment") return null;
  const source = wgsl ? WgslSource : GlslSource;
  return pbr ? PbrFaceCode(wgsl, source) : StandardFaceCode(wgsl, source);
}
