/**
 * End-to-end: the crowd sample's heads (its default) — each NPC's face composed onto the front of the plugin's
 * procedural head (`CreateNpcHead`, `NpcHeadComposition`: face rectangle, soft elliptical mask fitted to the face's
 * skin, the rest of the head in the face's skin tone read by the shader) — in headless Chromium on WebGL2 and WebGPU,
 * one material per NPC and the instanced crowd. Renders one head unlit with nearest texels and checks, against the
 * canonical engine's bytes of that face: the head's centre shows the face's centre texels; where the face is opaque
 * the head shows the face texel its UV names; everywhere the mask does not reach the head shows the face's skin tone
 * (the mean of its cheeks at mip level 2); at the mask's edge the face has faded into that tone (no seam). PBR heads
 * compile and load without errors on both engines.
 * Writes a screenshot to docs/images/crowd-heads.png when missing or with UPDATE_SCREENSHOT=1.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator, type FaceImage } from "@npc-faces/runtime";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { NpcFaceSkinLevel, NpcFaceSkinPoints, NpcHeadComposition } from "@npc-faces/babylon";
import { RepoRoot } from "@npc-faces/samples/sampleModel";
import { LaunchChromiumAsync, type TestBrowser } from "../e2e/browser.js";
import { OpenCrowdPageAsync, type CrowdWindow } from "../e2e/crowdPage.js";
import { StartCrowdSampleAsync, type CrowdSample } from "../e2e/sampleServer.js";

const ScreenshotPath = join(RepoRoot, "docs", "images", "crowd-heads.png");
/** Half the side of the square the head probe renders: the heads are 0.85 tall and 0.68 wide, so it holds their width. */
const HeadProbeHalfExtent = 0.42;
/**
 * How far the head may differ from the skin tone at its mask's outer edge (mask radius 0.97..1: at most 2% of the face
 * shows there, more where a sample's centre lies up to half a sample further in), 0..255 in any channel.
 */
const EdgeTolerance = 16;

let sample: CrowdSample;
let browser: TestBrowser;
let generator: FaceGenerator;

beforeAll(async () => {
  [sample, browser] = await Promise.all([StartCrowdSampleAsync(), LaunchChromiumAsync({ viewport: { width: 960, height: 600 } })]);
  generator = await FaceGenerator.loadAsync(await readFile(sample.model.path), { backend: CreateWebBackend({ numThreads: 1 }), source: sample.model.path });
}, 180_000);

afterAll(async () => {
  await Promise.all([browser?.closeAsync(), sample?.server.closeAsync(), generator?.disposeAsync()]);
});

type Rgb = [number, number, number];

function Pixel(data: Uint8Array, width: number, x: number, y: number): Rgb {
  const p = (y * width + x) * 4;
  return [data[p], data[p + 1], data[p + 2]];
}

const MaxDifference = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((v, k) => Math.abs(v - b[k])));
const ToLinear = (byte: number): number => (byte / 255 <= 0.04045 ? byte / 255 / 12.92 : ((byte / 255 + 0.055) / 1.055) ** 2.4);
const ToByte = (linear: number): number => Math.round(255 * (linear <= 0.0031308 ? 12.92 * linear : 1.055 * linear ** (1 / 2.4) - 0.055));

/**
 * The skin tone the shader reads from `face` as the probe samples it (nearest): at each of NpcFaceSkinPoints the mip
 * level's texel, a box average of the face's pixels in linear light (the texture is sRGB), and their mean.
 */
function ExpectedSkin(face: FaceImage): Rgb {
  const block = 2 ** NpcFaceSkinLevel(face.width);
  const texels = face.width / block;
  const sum = [0, 0, 0];
  for (const [u, v] of NpcFaceSkinPoints) {
    // v counts from the face's bottom row (the texture is uploaded bottom row first); the image is top row first.
    const left = Math.floor(u * texels) * block;
    const top = (texels - 1 - Math.floor(v * texels)) * block;
    for (let y = top; y < top + block; y++) for (let x = left; x < left + block; x++) for (let k = 0; k < 3; k++) sum[k] += ToLinear(face.data[(y * face.width + x) * 4 + k]) / (block * block);
  }
  return sum.map((s) => ToByte(s / NpcFaceSkinPoints.length)) as Rgb;
}

/** How far a head UV lies from the mask's centre: < 1 inside the mask's ellipse, < 1 - feather where it is opaque. */
function MaskRadius(u: number, v: number): number {
  const { faceRect, maskRect } = NpcHeadComposition;
  const x = ((u - faceRect.x) / faceRect.width - maskRect.x) / maskRect.width;
  const y = ((v - faceRect.y) / faceRect.height - maskRect.y) / maskRect.height;
  return Math.hypot(x - 0.5, y - 0.5) * 2;
}

describe.sequential("faces on procedural heads (composition) in headless Chromium", () => {
  for (const mode of ["material", "crowd"] as const) {
    for (const engine of ["webgl2", "webgpu"] as const) {
      it(`${engine}, ${mode} mode: the head's front shows the face, the rest the face's skin tone, no seam between them`, async () => {
        const crowd = await OpenCrowdPageAsync(browser.context, sample.pageUrl(engine, { count: "9", mode }));
        try {
          const { page } = crowd;
          const ready = await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.readyAtWhenReady);
          expect(ready.notReady).toEqual([]);
          const request = await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.requestOf(4));
          const [face] = await generator.generateAsync([request]);
          expect(await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.faceTextureIsSrgb(4))).toBe(true);

          // 1. The view's centre is the head's front, the face rectangle's centre: one of the face's 4 centre texels.
          const centreProbe = await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.probeFaceAsync(4));
          const shown = new Uint8Array(Buffer.from(centreProbe.base64, "base64"));
          const centre = Pixel(shown, centreProbe.width, centreProbe.width / 2, centreProbe.width / 2);
          const candidates = [31, 32].flatMap((y) => [31, 32].map((x) => Pixel(face.data, face.width, x, y)));
          const closest = Math.min(...candidates.map((c) => MaxDifference(c, centre)));
          expect(closest, `${engine}: head centre ${centre} vs face centre texels ${JSON.stringify(candidates)}`).toBeLessThanOrEqual(1);

          // 2. The head, one sample per face texel of a square around the face's centre.
          const headProbe = await page.evaluate((h) => (globalThis as unknown as CrowdWindow).npcFacesTest.probeFaceAsync(4, h), HeadProbeHalfExtent);
          const head = new Uint8Array(Buffer.from(headProbe.base64, "base64"));
          const side = headProbe.width;
          const geometry = (await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.headGeometry()))!;
          const toPixel = (x: number, y: number): [number, number] => [
            Math.floor(((x + geometry.centreOffset[0] + HeadProbeHalfExtent) / (2 * HeadProbeHalfExtent)) * side),
            Math.floor(((HeadProbeHalfExtent - y - geometry.centreOffset[1]) / (2 * HeadProbeHalfExtent)) * side),
          ];
          const skin = ExpectedSkin(face);
          let skinPixels = 0;
          let facePixels = 0;
          let faceMismatches = 0;
          let unlikeSkin = 0;
          let largestSkinDifference = 0;
          const { faceRect } = NpcHeadComposition;
          // Points of the surface: 6 inside each triangle (positions, normals and UVs interpolate).
          const points: { position: number[]; normal: number[]; uv: number[] }[] = [];
          const { indices } = geometry;
          const weightsOf = [1, 2, 3].flatMap((a) => [1, 2, 3].filter((b) => a + b < 5).map((b) => [a / 5, b / 5, (5 - a - b) / 5]));
          for (let t = 0; t < indices.length; t += 3) {
            for (const weights of weightsOf) {
              const mix = (data: number[], n: number): number[] => Array.from({ length: n }, (_, k) => weights.reduce((sum, w, j) => sum + w * data[indices[t + j] * n + k], 0));
              points.push({ position: mix(geometry.positions, 3), normal: mix(geometry.normals, 3), uv: mix(geometry.uvs, 2) });
            }
          }
          for (const { position, normal, uv } of points) {
            const [u, v] = uv;
            // Surface facing the viewer, away from the silhouette (whose pixels mix in the black background).
            if (normal[2] > -0.1) continue;
            const [px, py] = toPixel(position[0], position[1]);
            if (px < 1 || py < 1 || px >= side - 1 || py >= side - 1) continue;
            if ([-1, 0, 1].some((dy) => [-1, 0, 1].some((dx) => Pixel(head, side, px + dx, py + dy).every((c) => c === 0)))) continue;
            const radius = MaskRadius(u, v);
            if (radius > 1.05) {
              skinPixels++;
              const shownSkin = Pixel(head, side, px, py);
              largestSkinDifference = Math.max(largestSkinDifference, MaxDifference(shownSkin, skin));
              expect(MaxDifference(shownSkin, skin), `${engine} ${mode}: skin at head UV (${u.toFixed(3)}, ${v.toFixed(3)}) shows ${shownSkin}, the face's skin tone is ${skin}`).toBeLessThanOrEqual(3);
            } else if (radius < 0.5) {
              // Opaque face: the texel at the point's face UV, give or take one (points fall anywhere in a sample).
              facePixels++;
              const [fx, fy] = [Math.floor(((u - faceRect.x) / faceRect.width) * face.width), Math.floor((1 - (v - faceRect.y) / faceRect.height) * face.height)];
              const around = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => Pixel(face.data, face.width, Math.min(face.width - 1, Math.max(0, fx + dx)), Math.min(face.height - 1, Math.max(0, fy + dy)))));
              const shownFace = Pixel(head, side, px, py);
              if (Math.min(...around.map((c) => MaxDifference(c, shownFace))) > 2) faceMismatches++;
              if (MaxDifference(shownFace, skin) > 24) unlikeSkin++;
            }
          }
          expect(skinPixels, "skin pixels checked").toBeGreaterThan(30);
          expect(facePixels, "face pixels checked").toBeGreaterThan(30);
          // Samples are taken at pixel centres, points fall anywhere in them: allow a few at the face's sharpest edges
          // (measured: none).
          expect(faceMismatches / facePixels, `${engine} ${mode}: ${faceMismatches}/${facePixels} face pixels show no texel near their face UV`).toBeLessThan(0.02);
          // The face is not the skin (eyes, brows, nose, mouth): the checks above do not pass on a skin-coloured head.
          expect(unlikeSkin / facePixels, `${engine} ${mode}: face pixels unlike the skin`).toBeGreaterThan(0.1);

          // 3. No seam: at the mask's outer edge the face has faded into the skin tone (the smoothstep reaches 0).
          let edgeSamples = 0;
          let largestEdgeDifference = 0;
          for (const { position, normal, uv } of points) {
            const radius = MaskRadius(uv[0], uv[1]);
            if (normal[2] > -0.1 || radius < 0.97 || radius > 1) continue;
            const [px, py] = toPixel(position[0], position[1]);
            if (px < 0 || py < 0 || px >= side || py >= side) continue;
            edgeSamples++;
            largestEdgeDifference = Math.max(largestEdgeDifference, MaxDifference(Pixel(head, side, px, py), skin));
            expect(MaxDifference(Pixel(head, side, px, py), skin), `${engine} ${mode}: mask edge at head UV (${uv[0].toFixed(3)}, ${uv[1].toFixed(3)})`).toBeLessThanOrEqual(EdgeTolerance);
          }
          expect(edgeSamples, "samples at the mask's edge").toBeGreaterThan(20);
          console.log(
            `[e2e heads ${engine} ${mode}] centre vs face centre texels: ${closest}; skin tone ${skin}: ${skinPixels} points outside the mask, largest ` +
              `difference ${largestSkinDifference}; opaque face: ${faceMismatches}/${facePixels} points without their texel, ${unlikeSkin} unlike the skin; ` +
              `mask edge: ${edgeSamples} points, largest difference from the skin ${largestEdgeDifference}`,
          );

          if (engine === "webgl2" && mode === "material" && (process.env.UPDATE_SCREENSHOT === "1" || !(await stat(ScreenshotPath).catch(() => undefined)))) {
            await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
            await writeFile(ScreenshotPath, await page.screenshot());
          }
          expect(crowd.errors).toEqual([]);
        } finally {
          await crowd.closeAsync();
        }
      }, 300_000);
    }
  }

  for (const engine of ["webgl2", "webgpu"] as const) {
    it(`${engine}: heads on PBRMaterial (skin from the face in linear light) compile and show their faces`, async () => {
      const crowd = await OpenCrowdPageAsync(browser.context, sample.pageUrl(engine, { count: "4", material: "pbr" }));
      try {
        const { page } = crowd;
        expect(await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.materialClassOf(0))).toBe("PBRMaterial");
        expect(await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.readyAtWhenReady.notReady)).toEqual([]);
        expect(crowd.errors).toEqual([]);
      } finally {
        await crowd.closeAsync();
      }
    }, 300_000);
  }
});
