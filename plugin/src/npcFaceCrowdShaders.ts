/**
 * The shader code of {@link NpcFaceCrowdMaterialPlugin}: the face is read from a texture array at the layer given by
 * the per-instance attribute `npcFaceLayer` (layer + 1; 0 = no face yet, a neutral grey like the fallback texture).
 * GLSL for WebGL2, WGSL for WebGPU. Same colour handling as the per-material plugin (see npcFaceShaders.ts).
 */

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
#ifdef NPCFACECROWD_INSTANCED
varying float vNpcFaceLayer;
#endif
#endif
`;

const WgslDefinitions = `#ifdef NPCFACECROWD
var npcFaceLayersSamplerSampler: sampler;
var npcFaceLayersSampler: texture_2d_array<f32>;
#ifdef NPCFACECROWD_INSTANCED
varying vNpcFaceLayer: f32;
#endif
#endif
`;

// Sampled unconditionally (at layer 0 when there is none): WGSL allows textureSample only in uniform control flow,
// and GLSL's derivatives for mipmaps need it too.
const GlslSample = `#ifdef NPCFACECROWD_INSTANCED
float npcFaceLayer = floor(vNpcFaceLayer + 0.5) - 1.0;
#else
float npcFaceLayer = -1.0;
#endif
#ifdef NPCFACE_FLIPV
vec2 npcFaceUV = vec2(vMainUV1.x, 1.0 - vMainUV1.y);
#else
vec2 npcFaceUV = vMainUV1;
#endif
vec4 npcFace = texture(npcFaceLayersSampler, vec3(npcFaceUV, max(npcFaceLayer, 0.0)));
npcFace = npcFaceLayer < 0.0 ? vec4(0.5, 0.5, 0.5, 1.0) : npcFace;
`;

const WgslSample = `#ifdef NPCFACECROWD_INSTANCED
var npcFaceLayer: f32 = floor(fragmentInputs.vNpcFaceLayer + 0.5) - 1.0;
#else
var npcFaceLayer: f32 = -1.0;
#endif
var npcFaceUV: vec2f = fragmentInputs.vMainUV1;
#ifdef NPCFACE_FLIPV
npcFaceUV.y = 1.0 - npcFaceUV.y;
#endif
var npcFace: vec4f = textureSample(npcFaceLayersSampler, npcFaceLayersSamplerSampler, npcFaceUV, i32(max(npcFaceLayer, 0.0)));
npcFace = select(npcFace, vec4f(0.5, 0.5, 0.5, 1.0), npcFaceLayer < 0.0);
`;

function Guarded(statements: string): string {
  return `#if defined(NPCFACECROWD) && defined(MAINUV1)
{
${statements}}
#endif
`;
}

/** Vertex and fragment code for one material family and shader language. */
export function CrowdFaceCode(shaderType: string, wgsl: boolean, pbr: boolean): Record<string, string> | null {
  if (shaderType === "vertex") return wgsl ? WgslVertex : GlslVertex;
  if (shaderType !== "fragment") return null;
  const sample = wgsl ? WgslSample : GlslSample;
  const definitions = wgsl ? WgslDefinitions : GlslDefinitions;
  if (pbr) {
    const albedo = wgsl ? "surfaceAlbedo = uniforms.vAlbedoColor.rgb * toLinearSpaceVec3(npcFace.rgb);\n" : "surfaceAlbedo = vAlbedoColor.rgb * toLinearSpace(npcFace.rgb);\n";
    return { CUSTOM_FRAGMENT_DEFINITIONS: definitions, CUSTOM_FRAGMENT_BEFORE_LIGHTS: Guarded(sample + albedo) };
  }
  const diffuse = wgsl ? "baseColor = vec4f(npcFace.rgb, baseColor.a);\n" : "baseColor.rgb = npcFace.rgb;\n";
  return { CUSTOM_FRAGMENT_DEFINITIONS: definitions, CUSTOM_FRAGMENT_UPDATE_DIFFUSE: Guarded(sample + diffuse) };
}
