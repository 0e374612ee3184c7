/**
 * The shader code the NpcFace plugin injects: the face texture, sampled at the mesh's first UV set, replaces the
 * diffuse texture colour (StandardMaterial) or the albedo (PBR). GLSL for WebGL, WGSL for WebGPU.
 * The texture holds sRGB-encoded bytes in a plain RGBA8 format (no hardware sRGB decode): StandardMaterial works
 * in gamma space and takes them as they are, PBR converts them to linear like a gamma-space albedo texture.
 */

/** Name of the face sampler (WGSL also declares `npcFaceSamplerSampler`). */
export const NpcFaceSamplerName = "npcFaceSampler";

const GlslDefinitions = `#ifdef NPCFACE
uniform sampler2D npcFaceSampler;
#endif
`;

const WgslDefinitions = `#ifdef NPCFACE
var npcFaceSamplerSampler: sampler;
var npcFaceSampler: texture_2d<f32>;
#endif
`;

/** Injection points and code for one material family and shader language. */
export type NpcFaceShaderCode = Record<string, string>;

/** GLSL: `npcFace` = the face colour at the mesh's first UV set (v flipped with NPCFACE_FLIPV). */
const GlslSample = `#ifdef NPCFACE_FLIPV
vec4 npcFace = texture2D(npcFaceSampler, vec2(vMainUV1.x, 1.0 - vMainUV1.y));
#else
vec4 npcFace = texture2D(npcFaceSampler, vMainUV1);
#endif
`;

/** WGSL: `npcFace` = the face colour at the mesh's first UV set (v flipped with NPCFACE_FLIPV). */
const WgslSample = `var npcFaceUV: vec2f = fragmentInputs.vMainUV1;
#ifdef NPCFACE_FLIPV
npcFaceUV.y = 1.0 - npcFaceUV.y;
#endif
var npcFace: vec4f = textureSample(npcFaceSampler, npcFaceSamplerSampler, npcFaceUV);
`;

/** Wraps statements in a block guarded by the plugin's defines (the block keeps its names out of the shader's scope). */
function Guarded(statements: string): string {
  return `#if defined(NPCFACE) && defined(MAINUV1)
{
${statements}}
#endif
`;
}

/** Fragment code for StandardMaterial: the face replaces `baseColor.rgb` (the diffuse texture's colour). */
export function StandardFaceCode(wgsl: boolean): NpcFaceShaderCode {
  return wgsl
    ? { CUSTOM_FRAGMENT_DEFINITIONS: WgslDefinitions, CUSTOM_FRAGMENT_UPDATE_DIFFUSE: Guarded(`${WgslSample}baseColor = vec4f(npcFace.rgb, baseColor.a);\n`) }
    : { CUSTOM_FRAGMENT_DEFINITIONS: GlslDefinitions, CUSTOM_FRAGMENT_UPDATE_DIFFUSE: Guarded(`${GlslSample}baseColor.rgb = npcFace.rgb;\n`) };
}

/** Fragment code for PBR materials: the face (decoded to linear) times the albedo colour replaces `surfaceAlbedo`. */
export function PbrFaceCode(wgsl: boolean): NpcFaceShaderCode {
  return wgsl
    ? { CUSTOM_FRAGMENT_DEFINITIONS: WgslDefinitions, CUSTOM_FRAGMENT_BEFORE_LIGHTS: Guarded(`${WgslSample}surfaceAlbedo = uniforms.vAlbedoColor.rgb * toLinearSpaceVec3(npcFace.rgb);\n`) }
    : { CUSTOM_FRAGMENT_DEFINITIONS: GlslDefinitions, CUSTOM_FRAGMENT_BEFORE_LIGHTS: Guarded(`${GlslSample}surfaceAlbedo = vAlbedoColor.rgb * toLinearSpace(npcFace.rgb);\n`) };
}
