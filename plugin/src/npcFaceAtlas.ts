/**
 * Baked face atlases in Babylon.js: loads the `atlas.json` written by `npc-faces bake --atlas` (see
 * docs/baking.md) and gives every NPC a texture (sharing its page's GPU texture, with the UV offset/scale of its
 * rectangle) and a material. For games that bake faces at build time instead of generating them at load time.
 */
import { Texture } from "@babylonjs/core/Materials/Textures/texture.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import type { Material } from "@babylonjs/core/Materials/material.js";
import type { Scene } from "@babylonjs/core/scene.js";

/** One face's place in the atlas, as the baker (`npc-faces bake --atlas`) writes it, and its Babylon UV transform. */
export interface NpcFaceAtlasRect {
  /** Page index (file `atlas-<page>.png`). */
  readonly page: number;
  /** Pixel rectangle of the face (gutter excluded), from the page's top-left corner. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** `Texture.uOffset`: u of the face's left edge. */
  readonly uOffset: number;
  /** `Texture.vOffset` with `invertY = true` (v = 0 is the page's bottom row): v of the face's bottom edge. */
  readonly vOffset: number;
  readonly uScale: number;
  readonly vScale: number;
}

/** The atlas JSON document (`format: "npc-faces-atlas"`). */
export interface NpcFaceAtlasDocument {
  readonly format: "npc-faces-atlas";
  readonly formatVersion: 1;
  readonly faceSize: number;
  readonly gutter: number;
  readonly uvConvention: "babylon-invertY";
  readonly pages: readonly { readonly file: string; readonly width: number; readonly height: number }[];
  readonly faces: Readonly<Record<string, NpcFaceAtlasRect>>;
}

/** Options of {@link LoadNpcFaceAtlasAsync}. */
export interface LoadNpcFaceAtlasOptions {
  /** Fetches and parses the JSON (default: `fetch(url).then(r => r.json())`). */
  readonly loadJsonAsync?: (url: string) => Promise<unknown>;
  /** Makes the material of one NPC (default: a StandardMaterial `npcFace:<id>` with the face as diffuse texture). */
  readonly createMaterial?: (id: string, texture: Texture, scene: Scene) => Material;
  /** Build mipmaps (default false: at small sizes, mip levels would blend neighbouring faces past the gutter). */
  readonly mipmaps?: boolean;
}

/** A loaded atlas. */
export interface NpcFaceAtlas {
  readonly document: NpcFaceAtlasDocument;
  /** One texture per page. */
  readonly pages: readonly Texture[];
  /** By NPC id: the page texture's clone with the NPC's UV transform. */
  readonly textures: ReadonlyMap<string, Texture>;
  /** By NPC id. */
  readonly materials: ReadonlyMap<string, Material>;
  /** Disposes the materials and textures. */
  dispose(): void;
}

/** Resolves `file` against the folder of `base` (a URL or a path, absolute or relative). */
function ResolveSibling(base: string, file: string): string {
  const slash = base.lastIndexOf("/");
  return slash < 0 ? file : `${base.slice(0, slash + 1)}${file}`;
}

/** Checks the parts of the document the loader reads, before any texture exists (a damaged file gets a message, not a TypeError). */
function CheckAtlasBody(document: NpcFaceAtlasDocument, url: string): void {
  const fail = (what: string): never => {
    throw new Error(`${url}: not an npc-faces atlas (${what})`);
  };
  const IsRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!Array.isArray(document.pages)) fail("pages: expected an array");
  document.pages.forEach((page: unknown, i) => {
    if (!IsRecord(page) || typeof page.file !== "string") fail(`pages[${i}]: expected { file, width, height }`);
  });
  if (!IsRecord(document.faces)) fail("faces: expected an object");
  for (const [id, rect] of Object.entries(document.faces as Record<string, unknown>)) {
    if (!IsRecord(rect)) fail(`faces["${id}"]: expected a rectangle`);
    const r = rect as Record<string, unknown>;
    if (!Number.isInteger(r.page)) fail(`faces["${id}"].page: expected an integer`);
    for (const key of ["uOffset", "vOffset", "uScale", "vScale"]) if (typeof r[key] !== "number" || !Number.isFinite(r[key])) fail(`faces["${id}"].${key}: expected a finite number`);
  }
}

/**
 * Loads an atlas JSON and creates per-NPC textures and materials. Textures use Babylon's default `invertY = true`,
 * which the JSON's `vOffset` assumes; the UV transform maps a mesh's whole 0..1 UV range onto the face.
 * @throws Error when the document is not an npc-faces atlas
 */
export async function LoadNpcFaceAtlasAsync(scene: Scene, atlasJsonUrl: string, options: LoadNpcFaceAtlasOptions = {}): Promise<NpcFaceAtlas> {
  const load = options.loadJsonAsync ?? (async (url: string) => (await fetch(url)).json());
  const document = (await load(atlasJsonUrl)) as NpcFaceAtlasDocument;
  if (document?.format !== "npc-faces-atlas" || document.formatVersion !== 1) throw new Error(`${atlasJsonUrl}: not an npc-faces atlas (format ${String(document?.format)} version ${String(document?.formatVersion)})`);
  if (document.uvConvention !== "babylon-invertY") throw new Error(`${atlasJsonUrl}: unsupported UV convention ${String(document.uvConvention)}`);
  CheckAtlasBody(document, atlasJsonUrl);
  const pages = document.pages.map((page) => new Texture(ResolveSibling(atlasJsonUrl, page.file), scene, { noMipmap: options.mipmaps !== true, invertY: true, samplingMode: Texture.BILINEAR_SAMPLINGMODE }));
  const textures = new Map<string, Texture>();
  const materials = new Map<string, Material>();
  for (const [id, rect] of Object.entries(document.faces)) {
    const page = pages[rect.page];
    if (!page) throw new Error(`${atlasJsonUrl}: face "${id}" is on page ${rect.page}, the atlas has ${pages.length}`);
    const texture = page.clone(); // shares the page's GPU texture
    texture.name = `npcFace:${id}`;
    texture.uOffset = rect.uOffset;
    texture.vOffset = rect.vOffset;
    texture.uScale = rect.uScale;
    texture.vScale = rect.vScale;
    texture.wrapU = Texture.CLAMP_ADDRESSMODE;
    texture.wrapV = Texture.CLAMP_ADDRESSMODE;
    textures.set(id, texture);
    let material: Material;
    if (options.createMaterial) material = options.createMaterial(id, texture, scene);
    else {
      const standard = new StandardMaterial(`npcFace:${id}`, scene);
      standard.diffuseTexture = texture;
      material = standard;
    }
    materials.set(id, material);
  }
  return {
    document,
    pages,
    textures,
    materials,
    dispose() {
      for (const m of materials.values()) m.dispose();
      for (const t of textures.values()) t.dispose();
      for (const p of pages) p.dispose();
    },
  };
}
