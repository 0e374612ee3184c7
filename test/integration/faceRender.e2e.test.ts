/**
 * End-to-end: the face as it is *rendered*, not only as a texture. StandardMaterial and PBRMaterial, on Babylon's
 * WebGL2 and WebGPU engines in headless Chromium: the crowd sample (4 NPCs) draws its faces, and the pixels of NPC 0's
 * face quad on screen must follow the face texture read back from the GPU — the same picture, the right way up,
 * lit: at a grid of points projected onto the screen, each colour channel of the screenshot correlates with the
 * texture there (measured 0.99; upside down -0.1). A shader that does not inject the face, samples the wrong UVs or
 * flips the face fails this; lighting and PBR's linear/sRGB round trip scale the colours but keep the correlation.
 * glTF (`gltf=1`, WebGL2 and WebGPU): the quads of plugin/examples/npcFaces.gltf, loaded with the NPC_faces
 * extension, have the file's parameters, their textures are the canonical engine's bytes for them, and they render
 * upright by glTF's UV convention.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { LaunchChromiumAsync, type TestBrowser } from "../e2e/browser.js";
import { FaceGenerator, type FaceRequest } from "@npc-faces/runtime";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { RepoRoot } from "@npc-faces/samples/sampleModel";
import { ComparePixels, OpenCrowdPageAsync, ReadFaceTextureAsync, type CrowdWindow } from "../e2e/crowdPage.js";
import { StartCrowdSampleAsync, type CrowdSample } from "../e2e/sampleServer.js";

/** Lowest accepted Pearson correlation, per channel, between the rendered face and its texture. */
const MinCorrelation = 0.85;

let sample: CrowdSample;
let browser: TestBrowser;

let generator: FaceGenerator;

beforeAll(async () => {
  [sample, browser] = await Promise.all([StartCrowdSampleAsync(), LaunchChromiumAsync({ viewport: { width: 1100, height: 620 } })]);
  // The canonical engine (onnxruntime-web WASM, one thread) on the sample's model: the glTF faces' reference bytes.
  generator = await FaceGenerator.loadAsync(await readFile(sample.model.path), { backend: CreateWebBackend({ numThreads: 1 }), source: sample.model.path });
}, 180_000);

afterAll(async () => {
  await Promise.all([browser?.closeAsync(), sample?.server.closeAsync(), generator?.disposeAsync()]);
});

describe.sequential("rendered faces in headless Chromium", () => {
  for (const engine of ["webgl2", "webgpu"] as const) {
    for (const material of ["standard", "pbr"] as const) {
      it(`${engine}, ${material === "pbr" ? "PBRMaterial" : "StandardMaterial"}: the face on screen is the face texture, lit`, async () => {
        // Face cards (heads=0): the whole face texture on a quad, projected point by point.
        const crowd = await OpenCrowdPageAsync(browser.context, sample.pageUrl(engine, { count: "4", material, heads: "0" }));
        try {
          const { page } = crowd;
          expect(await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.materialClassOf(0))).toBe(material === "pbr" ? "PBRMaterial" : "StandardMaterial");
          await ExpectFaceOnScreenAsync(page, 0, `${engine} ${material}`);
          expect(crowd.errors).toEqual([]);
        } finally {
          await crowd.closeAsync();
        }
      }, 170_000);
    }
  }
});

describe.sequential("glTF faces (NPC_faces) in headless Chromium", () => {
  for (const engine of ["webgl2", "webgpu"] as const) {
    it(`${engine}: the example file's quads show the faces of their NPC_faces parameters, upright, the canonical bytes`, async () => {
      const crowd = await OpenCrowdPageAsync(browser.context, sample.pageUrl(engine, { count: "4", gltf: "1" }));
      try {
        const { page } = crowd;
        const file = JSON.parse(await readFile(join(RepoRoot, "plugin", "examples", "npcFaces.gltf"), "utf8"));
        for (const [index, material] of (file.materials as { name: string; extensions: { NPC_faces: Record<string, unknown> } }[]).entries()) {
          expect(await page.evaluate((i) => (globalThis as unknown as CrowdWindow).npcFacesTest.materialClassOf(i), index), material.name).toBe("PBRMaterial");
          // The request of the file's parameters (the composition fields are not part of it).
          const { seed, mixSeed, mix, mixCrossover, psi, controls } = material.extensions.NPC_faces as FaceRequest;
          const request = JSON.parse(JSON.stringify({ seed, mixSeed, mix, mixCrossover, psi, controls })) as FaceRequest;
          expect(await page.evaluate((i) => (globalThis as unknown as CrowdWindow).npcFacesTest.requestOf(i), index), material.name).toEqual(request);
          const [face] = await generator.generateAsync([request]);
          const texture = await ReadFaceTextureAsync(page, index);
          expect(ComparePixels(texture.data, face.data).maxAbs, `${material.name}: texture vs canonical face`).toBe(0);
        }
        // Rendered upright on the glTF quads (glTF's UV convention): the two quads without a face rectangle.
        await ExpectFaceOnScreenAsync(page, 0, `${engine} glTF guard`);
        await ExpectFaceOnScreenAsync(page, 1, `${engine} glTF smith`);
        expect(crowd.errors).toEqual([]);
      } finally {
        await crowd.closeAsync();
      }
    }, 170_000);
  }
});

/**
 * NPC `index`'s face quad on screen against its face texture: each channel correlates at least {@link MinCorrelation}
 * at a grid of points over the face's inner 70%, the brightness is that of a lit face, and the face upside down matches
 * clearly worse.
 */
async function ExpectFaceOnScreenAsync(page: Page, index: number, label: string): Promise<void> {
  const texture = await ReadFaceTextureAsync(page, index);
  // A grid of points over the face's inner 70% (clear of the quad's edge, where filtering mixes in the
  // background): where each lands on screen, and the texture's colour there.
  const grid: [number, number][] = [];
  for (let j = 0; j < GridSize; j++) for (let i = 0; i < GridSize; i++) grid.push([0.15 + (0.7 * (i + 0.5)) / GridSize, 0.15 + (0.7 * (j + 0.5)) / GridSize]);
  const onScreen = await page.evaluate(([i, points]) => (globalThis as unknown as CrowdWindow).npcFacesTest.faceScreenPoints(i, points), [index, grid] as const);
  const span = Math.hypot(onScreen[GridSize - 1][0] - onScreen[0][0], onScreen[GridSize - 1][1] - onScreen[0][1]);
  expect(span, "the face must be large enough on screen to compare").toBeGreaterThan(GridSize);
  const shot = await sharp(await page.screenshot()).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rendered = onScreen.map(([x, y]) => Pixel(shot.data, shot.info.width, Math.round(x - 0.5), Math.round(y - 0.5)));
  const expected = grid.map(([fx, fy]) => Bilinear(texture.data, texture.width, texture.height, fx, fy));
  const upsideDown = grid.map(([fx, fy]) => Bilinear(texture.data, texture.width, texture.height, fx, 1 - fy));
  const correlations = [0, 1, 2].map((c) => Correlation(rendered, expected, c));
  const brightness = rendered.reduce((s, p) => s + p[0] + p[1] + p[2], 0) / expected.reduce((s, p) => s + p[0] + p[1] + p[2], 0);
  const flipped = [0, 1, 2].map((c) => Correlation(rendered, upsideDown, c));
  console.log(`[render ${label}] ${GridSize}x${GridSize} points over ${span.toFixed(0)} px; correlation with the texture R ${correlations.map((r) => r.toFixed(3)).join(", G ").replace(/, G (\S+)$/, ", B $1")}; with it upside down ${flipped.map((r) => r.toFixed(3)).join(", ")}; brightness rendered / texture ${brightness.toFixed(3)}`);
  for (const [c, r] of correlations.entries()) expect(r, `channel ${"RGB"[c]}: rendered vs texture`).toBeGreaterThanOrEqual(MinCorrelation);
  // Lit, not washed out or black (measured: Standard 0.84, PBR 0.92 of the texture's brightness).
  expect(brightness).toBeGreaterThan(0.5);
  expect(brightness).toBeLessThan(1.5);
  // The check can tell orientation: the face upside down matches clearly worse.
  expect(Math.min(...correlations) - Math.max(...flipped)).toBeGreaterThan(0.2);
}

/** Points per side of the sampled grid. */
const GridSize = 24;

/** RGB of pixel (x, y) of an RGB8 image. */
function Pixel(rgb: Uint8Array, width: number, x: number, y: number): [number, number, number] {
  const i = (y * width + x) * 3;
  return [rgb[i], rgb[i + 1], rgb[i + 2]];
}

/** RGB of an RGBA8 image (top row first) at fractions (fx, fy) of its width and height, bilinear. */
function Bilinear(rgba: Uint8Array, width: number, height: number, fx: number, fy: number): [number, number, number] {
  const x = fx * width - 0.5;
  const y = fy * height - 0.5;
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(width - 1, x0 + 1);
  const y1 = Math.min(height - 1, y0 + 1);
  const tx = Math.min(1, Math.max(0, x - x0));
  const ty = Math.min(1, Math.max(0, y - y0));
  const at = (px: number, py: number, c: number): number => rgba[(py * width + px) * 4 + c];
  return [0, 1, 2].map((c) => (at(x0, y0, c) * (1 - tx) + at(x1, y0, c) * tx) * (1 - ty) + (at(x0, y1, c) * (1 - tx) + at(x1, y1, c) * tx) * ty) as [number, number, number];
}

/** Pearson correlation of channel `c` of two lists of RGB samples. */
function Correlation(a: readonly (readonly number[])[], b: readonly (readonly number[])[], c: number): number {
  const n = a.length;
  const ma = a.reduce((s, p) => s + p[c], 0) / n;
  const mb = b.reduce((s, p) => s + p[c], 0) / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (a[i][c] - ma) * (b[i][c] - mb);
    va += (a[i][c] - ma) ** 2;
    vb += (b[i][c] - mb) ** 2;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
}
