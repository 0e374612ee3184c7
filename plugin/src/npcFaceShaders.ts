/**
 * The shader code the NpcFace plugin injects. The face is an albedo layer: sampled at the mesh's first (or second) UV
 * set through a scale/offset transform like a Babylon texture's, optionally placed in a face rectangle with a soft
 * mask, and blended into the material's own albedo *before* what Babylon applies on top of it, so vertex colours,
 * detail maps and decals keep working. GLSL for WebGL, WGSL for WebGPU.
 * Colour: where the engine has sRGB formats (WebGL2, WebGPU) the texture is sRGB (`NPCFACE_SRGB`): the GPU decodes
 * to linear before filtering, so mipmaps and bilinear filtering average light, not encoded bytes; PBR takes the decoded
 * value, StandardMaterial (which works in gamma space) re-encodes it exactly. Elsewhere the bytes sit in a plain
 * RGBA8 format: StandardMaterial takes them as they are, PBR converts them like a gamma-space albedo texture.
 *
 * StandardMaterial: with a diffuse texture the face is mixed into the texture's colour right after it is sampled
 * (`CUSTOM_FRAGMENT_UPDATE_ALPHA`, before the diffuse level, decals, vertex colours and the detail map); without one,
 * `baseColor` is 1 times vertex colours and detail, so the face multiplies it (`CUSTOM_FRAGMENT_UPDATE_DIFFUSE`).
 * PBR: Babylon has no injection point between the albedo texture and its albedo block, so the face (times the albedo
 * colour and vertex colours) is mixed into `surfaceAlbedo` before the lights; inside the mask the PBR detail map and
 * decals do not apply (outside they do).
 */

/** Name of the face sampler (WGSL also declares `npcFaceSamplerSampler`). */
export const NpcFaceSamplerName = "npcFaceSampler";

/** The plugin's uniforms: UV transform (uScale, vScale, uOffset, vOffset), face rectangle (x, y, w, h), mask (feather, opacity). */
export const NpcFaceUniforms = { transform: "npcFaceTransform", rect: "npcFaceRect", mask: "npcFaceMaskParams" } as const;

/** Uniform declarations for {@link MaterialPluginBase.getUniforms}. */
export function NpcFaceUniformDeclarations(): { ubo: { name: string; size: number; type: string }[]; fragment: string } {
  return {
    ubo: Object.values(NpcFaceUniforms).map((name) => ({ name, size: 4, type: "vec4" })),
    fragment: `#ifdef NPCFACE
uniform vec4 ${NpcFaceUniforms.transform};
uniform vec4 ${NpcFaceUniforms.rect};
uniform vec4 ${NpcFaceUniforms.mask};
#endif
`,
  };
}

// The exact sRGB encoding (Babylon's toGammaSpaceExact exists only with USE_EXACT_SRGB_CONVERSIONS).
const GlslDefinitionsOf2D = `#ifdef NPCFACE
uniform sampler2D npcFaceSampler;
#ifdef NPCFACE_SRGB
vec3 npcFaceToGamma(vec3 c) {
  vec3 high = 1.055 * pow(c, vec3(1.0 / 2.4)) - vec3(0.055);
  return vec3(c.r <= 0.0031308 ? 12.92 * c.r : high.r, c.g <= 0.0031308 ? 12.92 * c.g : high.g, c.b <= 0.0031308 ? 12.92 * c.b : high.b);
}
#endif
#endif
`;

const WgslDefinitionsOf2D = `#ifdef NPCFACE
var npcFaceSamplerSampler: sampler;
var npcFaceSampler: texture_2d<f32>;
#ifdef NPCFACE_SRGB
fn npcFaceToGamma(c: vec3f) -> vec3f {
  return select(1.055 * pow(c, vec3f(1.0 / 2.4)) - vec3f(0.055), 12.92 * c, c <= vec3f(0.0031308));
}
#endif
#endif
`;

/** Injection points and code for one material family and shader language. */
export type NpcFaceShaderCode = Record<string, string>;

/**
 * GLSL: `npcFace` = the face colour, `npcFaceMask` = how much of it shows (0 outside the face rectangle). `fetch`
 * reads the texture at `npcFaceUV` (a 2D texture here, a texture-array layer for crowds).
 */
const GlslSampleCode = (fetch: string): string => `#ifdef NPCFACE_UV2
vec2 npcFaceUV = vMainUV2;
#else
vec2 npcFaceUV = vMainUV1;
#endif
npcFaceUV = npcFaceUV * npcFaceTransform.xy + npcFaceTransform.zw;
float npcFaceMask = npcFaceMaskParams.y;
#ifdef NPCFACE_RECT
npcFaceUV = (npcFaceUV - npcFaceRect.xy) / npcFaceRect.zw;
#ifdef NPCFACE_ELLIPSE
npcFaceMask *= 1.0 - smoothstep(1.0 - max(npcFaceMaskParams.x, 1e-4), 1.0, length(npcFaceUV - 0.5) * 2.0);
#else
vec2 npcFaceEdge = min(npcFaceUV, 1.0 - npcFaceUV);
npcFaceMask *= smoothstep(0.0, max(npcFaceMaskParams.x, 1e-4), npcFaceEdge.x) * smoothstep(0.0, max(npcFaceMaskParams.x, 1e-4), npcFaceEdge.y);
#endif
#endif
#ifdef NPCFACE_FLIPV
npcFaceUV.y = 1.0 - npcFaceUV.y;
#endif
vec4 npcFace = ${fetch};
`;
const GlslSample = GlslSampleCode("texture2D(npcFaceSampler, npcFaceUV)");
const GlslSampleOf2D = GlslSample;

/** WGSL: the same as {@link GlslSampleCode}. */
const WgslSampleCode = (fetch: string): string => `#ifdef NPCFACE_UV2
var npcFaceUV: vec2f = fragmentInputs.vMainUV2;
#else
var npcFaceUV: vec2f = fragmentInputs.vMainUV1;
#endif
npcFaceUV = npcFaceUV * uniforms.npcFaceTransform.xy + uniforms.npcFaceTransform.zw;
var npcFaceMask: f32 = uniforms.npcFaceMaskParams.y;
#ifdef NPCFACE_RECT
npcFaceUV = (npcFaceUV - uniforms.npcFaceRect.xy) / uniforms.npcFaceRect.zw;
#ifdef NPCFACE_ELLIPSE
npcFaceMask *= 1.0 - smoothstep(1.0 - max(uniforms.npcFaceMaskParams.x, 1e-4), 1.0, length(npcFaceUV - vec2f(0.5)) * 2.0);
#else
var npcFaceEdge: vec2f = min(npcFaceUV, vec2f(1.0) - npcFaceUV);
npcFaceMask *= smoothstep(0.0, max(uniforms.npcFaceMaskParams.x, 1e-4), npcFaceEdge.x) * smoothstep(0.0, max(uniforms.npcFaceMaskParams.x, 1e-4), npcFaceEdge.y);
#endif
#endif
#ifdef NPCFACE_FLIPV
npcFaceUV.y = 1.0 - npcFaceUV.y;
#endif
var npcFace: vec4f = ${fetch};
`;
const WgslSample = WgslSampleCode("textureSample(npcFaceSampler, npcFaceSamplerSampler, npcFaceUV)");
const WgslSampleOf2D = WgslSample;

/** StandardMaterial works in gamma space: an sRGB texture's decoded value is encoded again (exactly, not pow 1/2.2). */
const GlslToGamma = `#ifdef NPCFACE_SRGB
npcFace.rgb = npcFaceToGamma(npcFace.rgb);
#endif
`;
const WgslToGamma = `#ifdef NPCFACE_SRGB
npcFace = vec4f(npcFaceToGamma(npcFace.rgb), npcFace.a);
#endif
`;

/** Wraps statements in a block guarded by the plugin's defines (the block keeps its names out of the shader's scope). */
function Guarded(condition: string, statements: string): string {
  return `#if ${condition}
{
${statements}}
#endif
`;
}

/**
 * How another texture (the crowd's texture array) plugs into the same composition code: its declarations, statements
 * before the UVs are computed, the texture read at `npcFaceUV`, and statements after it (may change `npcFace`).
 */
export interface NpcFaceSource {
  readonly definitions: string;
  readonly prelude: string;
  readonly fetch: string;
  readonly post: string;
}

/** Fragment code for StandardMaterial (see the file comment); `source` replaces the per-material 2D texture. */
export function StandardFaceCode(wgsl: boolean, source?: NpcFaceSource): NpcFaceShaderCode {
  const sample = source ? source.prelude + (wgsl ? WgslSampleCode : GlslSampleCode)(source.fetch) + source.post : wgsl ? WgslSample : GlslSample;
  const WgslDefinitions = source?.definitions ?? WgslDefinitionsOf2D;
  const GlslDefinitions = source?.definitions ?? GlslDefinitionsOf2D;
  return wgsl
    ? {
        CUSTOM_FRAGMENT_DEFINITIONS: WgslDefinitions,
        CUSTOM_FRAGMENT_UPDATE_ALPHA: Guarded("defined(NPCFACE) && defined(DIFFUSE)", `${sample}${WgslToGamma}baseColor = vec4f(mix(baseColor.rgb, npcFace.rgb, npcFaceMask), baseColor.a);\n`),
        CUSTOM_FRAGMENT_UPDATE_DIFFUSE: Guarded("defined(NPCFACE) && !defined(DIFFUSE)", `${sample}${WgslToGamma}baseColor = vec4f(baseColor.rgb * mix(vec3f(1.0), npcFace.rgb, npcFaceMask), baseColor.a);\n`),
      }
    : {
        CUSTOM_FRAGMENT_DEFINITIONS: GlslDefinitions,
        CUSTOM_FRAGMENT_UPDATE_ALPHA: Guarded("defined(NPCFACE) && defined(DIFFUSE)", `${sample}${GlslToGamma}baseColor.rgb = mix(baseColor.rgb, npcFace.rgb, npcFaceMask);\n`),
        CUSTOM_FRAGMENT_UPDATE_DIFFUSE: Guarded("defined(NPCFACE) && !defined(DIFFUSE)", `${sample}${GlslToGamma}baseColor.rgb *= mix(vec3(1.0), npcFace.rgb, npcFaceMask);\n`),
      };
}

/** Fragment code for PBR materials (see the file comment); `source` replaces the per-material 2D texture. */
export function PbrFaceCode(wgsl: boolean, source?: NpcFaceSource): NpcFaceShaderCode {
  const WgslSample = source ? source.prelude + WgslSampleCode(source.fetch) + source.post : WgslSampleOf2D;
  const GlslSample = source ? source.prelude + GlslSampleCode(source.fetch) + source.post : GlslSampleOf2D;
  const WgslDefinitions = source?.definitions ?? WgslDefinitionsOf2D;
  const GlslDefinitions = source?.definitions ?? GlslDefinitionsOf2D;
  return wgsl
    ? {
        CUSTOM_FRAGMENT_DEFINITIONS: WgslDefinitions,
        CUSTOM_FRAGMENT_BEFORE_LIGHTS: Guarded(
          "defined(NPCFACE)",
          `${WgslSample}#ifdef NPCFACE_SRGB
var npcFaceAlbedo: vec3f = uniforms.vAlbedoColor.rgb * npcFace.rgb;
#else
var npcFaceAlbedo: vec3f = uniforms.vAlbedoColor.rgb * toLinearSpaceVec3(npcFace.rgb);
#endif
#if defined(VERTEXCOLOR) || defined(INSTANCESCOLOR) && defined(INSTANCES)
npcFaceAlbedo *= fragmentInputs.vColor.rgb;
#endif
surfaceAlbedo = mix(surfaceAlbedo, npcFaceAlbedo, npcFaceMask);
`,
        ),
      }
    : {
        CUSTOM_FRAGMENT_DEFINITIONS: GlslDefinitions,
        CUSTOM_FRAGMENT_BEFORE_LIGHTS: Guarded(
          "defined(NPCFACE)",
          `${GlslSample}#ifdef NPCFACE_SRGB
vec3 npcFaceAlbedo = vAlbedoColor.rgb * npcFace.rgb;
#else
vec3 npcFaceAlbedo = vAlbedoColor.rgb * toLinearSpace(npcFace.rgb);
#endif
#if defined(VERTEXCOLOR) || defined(INSTANCESCOLOR) && defined(INSTANCES)
npcFaceAlbedo *= vColor.rgb;
#endif
surfaceAlbedo = mix(surfaceAlbedo, npcFaceAlbedo, npcFaceMask);
`,
        ),
      };
}
