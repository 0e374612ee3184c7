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

/** Fragment code for StandardMaterial: the face replaces `baseColor.rgb` (the diffuse texture's colour). */
export function StandardFaceCode(wgsl: boolean): NpcFaceShaderCode {
  return wgsl
    ? {
        CUSTOM_FRAGMENT_DEFINITIONS: WgslDefinitions,
        CUSTOM_FRAGMENT_UPDATE_DIFFUSE: `#if defined(NPCFACE) && defined(MAINUV1)
baseColor = vec4f(textureSample(npcFaceSampler, npcFaceSamplerSampler, fragmentInputs.vMainUV1).rgb, baseColor.a);
#endif
`,
      }
    : {
        CUSTOM_FRAGMENT_DEFINITIONS: GlslDefinitions,
        CUSTOM_FRAGMENT_UPDATE_DIFFUSE: `#if defined(NPCFACE) && defined(MAINUV1)
baseColor.rgb = texture2D(npcFaceSampler, vMainUV1).rgb;
#endif
`,
      };
}

/** Fragment code for PBR materials: the face (decoded to linear) times the albedo colour replaces `surfaceAlbedo`. */
export function PbrFaceCode(wgsl: boolean): NpcFaceShaderCode {
  return wgsl
    ? {
        CUSTOM_FRAGMENT_DEFINITIONS: WgslDefinitions,
        CUSTOM_FRAGMENT_BEFORE_LIGHTS: `#if defined(NPCFACE) && defined(MAINUV1)
surfaceAlbedo = uniforms.vAlbedoColor.rgb * toLinearSpaceVec3(textureSample(npcFaceSampler, npcFaceSamplerSampler, fragmentInputs.vMainUV1).rgb);
#endif
`,
      }
    : {
        CUSTOM_FRAGMENT_DEFINITIONS: GlslDefinitions,
        CUSTOM_FRAGMENT_BEFORE_LIGHTS: `#if defined(NPCFACE) && defined(MAINUV1)
surfaceAlbedo = vAlbedoColor.rgb * toLinearSpace(texture2D(npcFaceSampler, vMainUV1).rgb);
#endif
`,
      };
}
