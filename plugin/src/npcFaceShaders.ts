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

/**
 * The plugin's uniforms: UV transform (uScale, vScale, uOffset, vOffset), face rectangle (x, y, w, h), mask (feather,
 * opacity, mip level of the skin samples), mask rectangle in the face image (x, y, w, h).
 */
export const NpcFaceUniforms = { transform: "npcFaceTransform", rect: "npcFaceRect", mask: "npcFaceMaskParams", maskRect: "npcFaceMaskRect" } as const;

/** Uniform declarations for {@link MaterialPluginBase.getUniforms}. */
export function NpcFaceUniformDeclarations(): { ubo: { name: string; size: number; type: string }[]; fragment: string } {
  return {
    ubo: Object.values(NpcFaceUniforms).map((name) => ({ name, size: 4, type: "vec4" })),
    fragment: `#ifdef NPCFACE
uniform vec4 ${NpcFaceUniforms.transform};
uniform vec4 ${NpcFaceUniforms.rect};
uniform vec4 ${NpcFaceUniforms.mask};
uniform vec4 ${NpcFaceUniforms.maskRect};
#endif
`,
  };
}

/**
 * `npcFaceToGamma`, the exact sRGB encoding (Babylon's toGammaSpaceExact exists only with USE_EXACT_SRGB_CONVERSIONS),
 * with which StandardMaterial re-encodes an sRGB face texture: every face texture's declarations include it.
 */
export function NpcFaceToGammaDefinition(wgsl: boolean): string {
  return wgsl
    ? `#ifdef NPCFACE_SRGB
fn npcFaceToGamma(c: vec3f) -> vec3f {
  return select(1.055 * pow(c, vec3f(1.0 / 2.4)) - vec3f(0.055), 12.92 * c, c <= vec3f(0.0031308));
}
#endif
`
    : `#ifdef NPCFACE_SRGB
vec3 npcFaceToGamma(vec3 c) {
  vec3 high = 1.055 * pow(c, vec3(1.0 / 2.4)) - vec3(0.055);
  return vec3(c.r <= 0.0031308 ? 12.92 * c.r : high.r, c.g <= 0.0031308 ? 12.92 * c.g : high.g, c.b <= 0.0031308 ? 12.92 * c.b : high.b);
}
#endif
`;
}

const GlslDefinitionsOf2D = `#ifdef NPCFACE
uniform sampler2D npcFaceSampler;
${NpcFaceToGammaDefinition(false)}#endif
`;

const WgslDefinitionsOf2D = `#ifdef NPCFACE
var npcFaceSamplerSampler: sampler;
var npcFaceSampler: texture_2d<f32>;
${NpcFaceToGammaDefinition(true)}#endif
`;

/** Injection points and code for one material family and shader language. */
export type NpcFaceShaderCode = Record<string, string>;

/**
 * Where the face's skin tone is read (with `NPCFACE_SKIN`), in the face texture's UV (v = 1 is the top of the face):
 * both cheeks, below the eyes and beside the nose, where the faces of the default model's data sets show bare skin
 * (glasses sit higher, hats and fringes higher still, the mouth and beards lower and nearer the middle).
 */
export const NpcFaceSkinPoints: readonly (readonly [number, number])[] = [
  [0.28, 0.38],
  [0.72, 0.38],
  [0.3, 0.3],
  [0.7, 0.3],
];
const SkinPoints = NpcFaceSkinPoints;

/**
 * The mip level the skin samples read for a face `size` texels wide: 16x16 texels (each sample averages about 1/16
 * of the face's width), level 0 for faces of 16 texels or fewer.
 */
export function NpcFaceSkinLevel(size: number): number {
  return Math.max(0, Math.log2(size / 16));
}

/**
 * GLSL: `npcFace` = the face colour, `npcFaceMask` = how much of it shows (0 outside the face rectangle, and outside
 * the mask rectangle's soft ellipse or rectangle in the face image), `npcFaceSkin` (with `NPCFACE_SKIN`) = the face's
 * skin tone, the mean of {@link NpcFaceSkinPoints} read at a coarse mip level (`npcFaceMaskParams.z`), so each sample
 * averages a patch of cheek. `fetch` reads the texture at `npcFaceUV` (a 2D texture here, a texture-array layer for
 * crowds); `fetchLevel` reads it at a given UV and that mip level.
 */
const GlslSampleCode = (fetch: string, fetchLevel: (uv: string) => string): string => `#ifdef NPCFACE_UV2
vec2 npcFaceUV = vMainUV2;
#else
vec2 npcFaceUV = vMainUV1;
#endif
npcFaceUV = npcFaceUV * npcFaceTransform.xy + npcFaceTransform.zw;
float npcFaceMask = npcFaceMaskParams.y;
#ifdef NPCFACE_RECT
npcFaceUV = (npcFaceUV - npcFaceRect.xy) / npcFaceRect.zw;
#endif
#ifdef NPCFACE_FLIPV
npcFaceUV.y = 1.0 - npcFaceUV.y;
#endif
#ifdef NPCFACE_RECT
vec2 npcFaceMaskUV = (npcFaceUV - npcFaceMaskRect.xy) / npcFaceMaskRect.zw;
#ifdef NPCFACE_ELLIPSE
npcFaceMask *= 1.0 - smoothstep(1.0 - max(npcFaceMaskParams.x, 1e-4), 1.0, length(npcFaceMaskUV - 0.5) * 2.0);
#else
vec2 npcFaceEdge = min(npcFaceMaskUV, 1.0 - npcFaceMaskUV);
npcFaceMask *= smoothstep(0.0, max(npcFaceMaskParams.x, 1e-4), npcFaceEdge.x) * smoothstep(0.0, max(npcFaceMaskParams.x, 1e-4), npcFaceEdge.y);
#endif
#endif
vec4 npcFace = ${fetch};
#ifdef NPCFACE_SKIN
vec4 npcFaceSkin = ${SkinPoints.map(([u, v]) => fetchLevel(`vec2(${u}, ${v})`)).join(" + ")};
npcFaceSkin /= ${SkinPoints.length.toFixed(1)};
#endif
`;
const GlslSampleOf2D = GlslSampleCode("texture2D(npcFaceSampler, npcFaceUV)", (uv) => `texture2DLodEXT(npcFaceSampler, ${uv}, npcFaceMaskParams.z)`);

/** WGSL: the same as {@link GlslSampleCode}. */
const WgslSampleCode = (fetch: string, fetchLevel: (uv: string) => string): string => `#ifdef NPCFACE_UV2
var npcFaceUV: vec2f = fragmentInputs.vMainUV2;
#else
var npcFaceUV: vec2f = fragmentInputs.vMainUV1;
#endif
npcFaceUV = npcFaceUV * uniforms.npcFaceTransform.xy + uniforms.npcFaceTransform.zw;
var npcFaceMask: f32 = uniforms.npcFaceMaskParams.y;
#ifdef NPCFACE_RECT
npcFaceUV = (npcFaceUV - uniforms.npcFaceRect.xy) / uniforms.npcFaceRect.zw;
#endif
#ifdef NPCFACE_FLIPV
npcFaceUV.y = 1.0 - npcFaceUV.y;
#endif
#ifdef NPCFACE_RECT
var npcFaceMaskUV: vec2f = (npcFaceUV - uniforms.npcFaceMaskRect.xy) / uniforms.npcFaceMaskRect.zw;
#ifdef NPCFACE_ELLIPSE
npcFaceMask *= 1.0 - smoothstep(1.0 - max(uniforms.npcFaceMaskParams.x, 1e-4), 1.0, length(npcFaceMaskUV - vec2f(0.5)) * 2.0);
#else
var npcFaceEdge: vec2f = min(npcFaceMaskUV, vec2f(1.0) - npcFaceMaskUV);
npcFaceMask *= smoothstep(0.0, max(uniforms.npcFaceMaskParams.x, 1e-4), npcFaceEdge.x) * smoothstep(0.0, max(uniforms.npcFaceMaskParams.x, 1e-4), npcFaceEdge.y);
#endif
#endif
var npcFace: vec4f = ${fetch};
#ifdef NPCFACE_SKIN
var npcFaceSkin: vec4f = (${SkinPoints.map(([u, v]) => fetchLevel(`vec2f(${u}, ${v})`)).join(" + ")}) / ${SkinPoints.length.toFixed(1)};
#endif
`;
const WgslSampleOf2D = WgslSampleCode("textureSample(npcFaceSampler, npcFaceSamplerSampler, npcFaceUV)", (uv) => `textureSampleLevel(npcFaceSampler, npcFaceSamplerSampler, ${uv}, uniforms.npcFaceMaskParams.z)`);

/** StandardMaterial works in gamma space: an sRGB texture's decoded value is encoded again (exactly, not pow 1/2.2). */
const GlslToGamma = `#ifdef NPCFACE_SRGB
npcFace.rgb = npcFaceToGamma(npcFace.rgb);
#ifdef NPCFACE_SKIN
npcFaceSkin.rgb = npcFaceToGamma(npcFaceSkin.rgb);
#endif
#endif
`;
const WgslToGamma = `#ifdef NPCFACE_SRGB
npcFace = vec4f(npcFaceToGamma(npcFace.rgb), npcFace.a);
#ifdef NPCFACE_SKIN
npcFaceSkin = vec4f(npcFaceToGamma(npcFaceSkin.rgb), npcFaceSkin.a);
#endif
#endif
`;

/**
 * With `NPCFACE_SKIN` the material's own albedo, where the face does not cover it, is multiplied by the face's skin
 * tone (`npcFaceBase`: the albedo as the mask's outside shows it). WebGL1 reads mip levels through an extension.
 */
const GlslSkinExtension = `#ifdef NPCFACE_SKIN
#extension GL_EXT_shader_texture_lod : enable
#endif
`;
const GlslSkinOf = (albedo: string): string => `#ifdef NPCFACE_SKIN
vec3 npcFaceBase = ${albedo} * npcFaceSkin.rgb;
#else
vec3 npcFaceBase = ${albedo};
#endif
`;
const WgslSkinOf = (albedo: string): string => `#ifdef NPCFACE_SKIN
var npcFaceBase: vec3f = ${albedo} * npcFaceSkin.rgb;
#else
var npcFaceBase: vec3f = ${albedo};
#endif
`;
const GlslLinearSkin = `#if defined(NPCFACE_SKIN) && !defined(NPCFACE_SRGB)
npcFaceSkin.rgb = toLinearSpace(npcFaceSkin.rgb);
#endif
`;
const WgslLinearSkin = `#if defined(NPCFACE_SKIN) && !defined(NPCFACE_SRGB)
npcFaceSkin = vec4f(toLinearSpaceVec3(npcFaceSkin.rgb), npcFaceSkin.a);
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
 * before the UVs are computed, the texture read at `npcFaceUV`, the read at a UV and the skin samples' mip level, and
 * statements after them (may change `npcFace` and `npcFaceSkin`).
 */
export interface NpcFaceSource {
  readonly definitions: string;
  readonly prelude: string;
  readonly fetch: string;
  readonly fetchLevel: (uv: string) => string;
  readonly post: string;
}

/** The declarations and the sampling statements of `source`, or of the per-material 2D texture without one. */
function SourceCode(wgsl: boolean, source: NpcFaceSource | undefined): { definitions: string; sample: string } {
  if (!source) return wgsl ? { definitions: WgslDefinitionsOf2D, sample: WgslSampleOf2D } : { definitions: GlslDefinitionsOf2D, sample: GlslSampleOf2D };
  return { definitions: source.definitions, sample: source.prelude + (wgsl ? WgslSampleCode : GlslSampleCode)(source.fetch, source.fetchLevel) + source.post };
}

/** Fragment code for StandardMaterial (see the file comment); `source` replaces the per-material 2D texture. */
export function StandardFaceCode(wgsl: boolean, source?: NpcFaceSource): NpcFaceShaderCode {
  const { definitions, sample } = SourceCode(wgsl, source);
  return wgsl
    ? {
        CUSTOM_FRAGMENT_DEFINITIONS: definitions,
        CUSTOM_FRAGMENT_UPDATE_ALPHA: Guarded("defined(NPCFACE) && defined(DIFFUSE)", `${sample}${WgslToGamma}${WgslSkinOf("baseColor.rgb")}baseColor = vec4f(mix(npcFaceBase, npcFace.rgb, npcFaceMask), baseColor.a);\n`),
        CUSTOM_FRAGMENT_UPDATE_DIFFUSE: Guarded("defined(NPCFACE) && !defined(DIFFUSE)", `${sample}${WgslToGamma}${WgslSkinOf("vec3f(1.0)")}baseColor = vec4f(baseColor.rgb * mix(npcFaceBase, npcFace.rgb, npcFaceMask), baseColor.a);\n`),
      }
    : {
        CUSTOM_FRAGMENT_BEGIN: GlslSkinExtension,
        CUSTOM_FRAGMENT_DEFINITIONS: definitions,
        CUSTOM_FRAGMENT_UPDATE_ALPHA: Guarded("defined(NPCFACE) && defined(DIFFUSE)", `${sample}${GlslToGamma}${GlslSkinOf("baseColor.rgb")}baseColor.rgb = mix(npcFaceBase, npcFace.rgb, npcFaceMask);\n`),
        CUSTOM_FRAGMENT_UPDATE_DIFFUSE: Guarded("defined(NPCFACE) && !defined(DIFFUSE)", `${sample}${GlslToGamma}${GlslSkinOf("vec3(1.0)")}baseColor.rgb *= mix(npcFaceBase, npcFace.rgb, npcFaceMask);\n`),
      };
}

/** Fragment code for PBR materials (see the file comment); `source` replaces the per-material 2D texture. */
export function PbrFaceCode(wgsl: boolean, source?: NpcFaceSource): NpcFaceShaderCode {
  const { definitions, sample } = SourceCode(wgsl, source);
  return wgsl
    ? {
        CUSTOM_FRAGMENT_DEFINITIONS: definitions,
        CUSTOM_FRAGMENT_BEFORE_LIGHTS: Guarded(
          "defined(NPCFACE)",
          `${sample}#ifdef NPCFACE_SRGB
var npcFaceAlbedo: vec3f = uniforms.vAlbedoColor.rgb * npcFace.rgb;
#else
var npcFaceAlbedo: vec3f = uniforms.vAlbedoColor.rgb * toLinearSpaceVec3(npcFace.rgb);
#endif
#if defined(VERTEXCOLOR) || defined(INSTANCESCOLOR) && defined(INSTANCES)
npcFaceAlbedo *= fragmentInputs.vColor.rgb;
#endif
${WgslLinearSkin}${WgslSkinOf("surfaceAlbedo")}surfaceAlbedo = mix(npcFaceBase, npcFaceAlbedo, npcFaceMask);
`,
        ),
      }
    : {
        CUSTOM_FRAGMENT_BEGIN: GlslSkinExtension,
        CUSTOM_FRAGMENT_DEFINITIONS: definitions,
        CUSTOM_FRAGMENT_BEFORE_LIGHTS: Guarded(
          "defined(NPCFACE)",
          `${sample}#ifdef NPCFACE_SRGB
vec3 npcFaceAlbedo = vAlbedoColor.rgb * npcFace.rgb;
#else
vec3 npcFaceAlbedo = vAlbedoColor.rgb * toLinearSpace(npcFace.rgb);
#endif
#if defined(VERTEXCOLOR) || defined(INSTANCESCOLOR) && defined(INSTANCES)
npcFaceAlbedo *= vColor.rgb;
#endif
${GlslLinearSkin}${GlslSkinOf("surfaceAlbedo")}surfaceAlbedo = mix(npcFaceBase, npcFaceAlbedo, npcFaceMask);
`,
        ),
      };
}
