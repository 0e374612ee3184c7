/**
 * End-to-end: the crowd sample in crowd mode (`mode=crowd`: one NpcFaceCrowd, faces in the layers of one texture
 * array, one thin instance per NPC) in headless Chromium on Babylon's WebGL2 and WebGPU engines. Checks that the faces
 * are ready at `scene.whenReadyAsync()`, that the whole crowd takes a handful of draw calls, that what an instance
 * shows on screen (rendered, read back from the canvas) is its NPC's face as the canonical engine generates it, and
 * that changing one NPC's parameters rewrites that NPC's face only; and that the per-material path (an sRGB texture
 * where the engine has sRGB formats) shows the same face on screen.
 *
 * No skipping: when Chromium or the WebGPU engine cannot start here, these tests fail with the reason.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator } from "@npc-faces/runtime";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { LaunchChromiumAsync, type TestBrowser } from "../e2e/browser.js";
import { ComparePixels, DescribeDifference, OpenCrowdPageAsync, type CrowdWindow } from "../e2e/crowdPage.js";
import { StartCrowdSampleAsync, type CrowdSample } from "../e2e/sampleServer.js";

const Engines = ["webgl2", "webgpu"] as const;
const Count = 16;

let sample: CrowdSample;
let browser: TestBrowser;
let generator: FaceGenerator;

beforeAll(async () => {
  [sample, browser] = await Promise.all([StartCrowdSampleAsync(), LaunchChromiumAsync({ viewport: { width: 640, height: 640 } })]);
  generator = await FaceGenerator.loadAsync(await readFile(sample.model.path), { backend: CreateWebBackend({ numThreads: 1 }), source: sample.model.path });
}, 180_000);

afterAll(async () => {
  await Promise.all([browser?.closeAsync(), sample?.server.closeAsync(), generator?.disposeAsync()]);
});

async function ProbeAsync(page: import("playwright-core").Page, index: number): Promise<Uint8Array> {
  const { base64 } = await page.evaluate((i) => (globalThis as unknown as CrowdWindow).npcFacesTest.probeFaceAsync(i), index);
  return new Uint8Array(Buffer.from(base64, "base64"));
}

/** RGB only: the canvas is opaque, the face's alpha is not what it shows. */
function Rgb(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) out.set(rgba.subarray(p, p + 3), q);
  return out;
}

describe.sequential("crowd mode (texture array + thin instances) in headless Chromium", () => {
  for (const engine of Engines) {
    it(`${engine}: ${Count} faces in one material, few draw calls, an instance shows its NPC's face, one edit rewrites one layer`, async () => {
      // Face cards (heads=0): each instance shows its whole face texture, which the probe compares texel by texel.
      const crowd = await OpenCrowdPageAsync(browser.context, sample.pageUrl(engine, { mode: "crowd", count: String(Count), heads: "0" }));
      try {
        const { page } = crowd;
        const info = await page.evaluate(() => {
          const hook = (globalThis as unknown as CrowdWindow).npcFacesTest;
          return { engine: hook.engineDescription, mode: hook.mode, readyAtWhenReady: hook.readyAtWhenReady, bytes: hook.faceTextureBytes() };
        });
        expect(info.engine).toMatch(engine === "webgpu" ? /WebGPU/ : /WebGL2/);
        expect(info.mode).toBe("crowd");
        // Both engines have sRGB formats: the crowd's texture array must use one.
        expect(await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.faceTextureIsSrgb(0))).toBe(true);
        expect(info.readyAtWhenReady).toEqual({ ready: Count, total: Count, notReady: [] });
        const frames = await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.measureFramesAsync(5));
        // Ground, bodies, heads, faces, selection ring: the faces are one of them whatever the count.
        expect(frames.drawCalls, JSON.stringify(frames)).toBeGreaterThan(0);
        expect(frames.drawCalls, JSON.stringify(frames)).toBeLessThanOrEqual(10);

        // What instance 5 shows on screen is NPC 5's face (and not its neighbour's).
        const check = async (index: number): Promise<void> => {
          const request = await page.evaluate((i) => (globalThis as unknown as CrowdWindow).npcFacesTest.requestOf(i), index);
          const [expected] = await generator.generateAsync([request]);
          const shown = Rgb(await ProbeAsync(page, index));
          const diff = ComparePixels(shown, Rgb(expected.data));
          // Nearest sampling, unlit, 8-bit in and out: exact but for the odd rounding of the colour pipeline.
          expect(diff.maxAbs, `${engine} NPC ${index} ${JSON.stringify(request)}: ${DescribeDifference(diff)}`).toBeLessThanOrEqual(1);
          const [neighbour] = await generator.generateAsync([{ ...request, seed: (request.seed + 1) >>> 0 }]);
          expect(ComparePixels(shown, Rgb(neighbour.data)).maxAbs).toBeGreaterThan(8);
        };
        await check(5);

        // One NPC's new seed: its layer changes, the others' stay.
        const layersBefore = await page.evaluate((n) => Array.from({ length: n }, (_, i) => (globalThis as unknown as CrowdWindow).npcFacesTest.crowdLayerOf(i)), Count);
        await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.setParametersAsync(5, { seed: 4242 }));
        const layersAfter = await page.evaluate((n) => Array.from({ length: n }, (_, i) => (globalThis as unknown as CrowdWindow).npcFacesTest.crowdLayerOf(i)), Count);
        expect(layersAfter.filter((l, i) => l !== layersBefore[i])).toHaveLength(1);
        expect(layersAfter[5]).not.toBe(layersBefore[5]);
        await check(5);
        expect(crowd.externalRequests).toEqual([]);
        expect(crowd.errors).toEqual([]);
      } finally {
        await crowd.closeAsync();
      }
    }, 300_000);

    it(`${engine}: one material per NPC (sRGB face texture where the engine has it) shows the same face on screen`, async () => {
      const page = await OpenCrowdPageAsync(browser.context, sample.pageUrl(engine, { mode: "material", count: "4", heads: "0" }));
      try {
        const request = await page.page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.requestOf(1));
        // Both engines have sRGB formats: the face texture must use one.
        expect(await page.page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.faceTextureIsSrgb(1))).toBe(true);
        const [expected] = await generator.generateAsync([request]);
        const diff = ComparePixels(Rgb(await ProbeAsync(page.page, 1)), Rgb(expected.data));
        // sRGB decode then exact re-encode in the shader: at most 1 level off.
        expect(diff.maxAbs, `${engine} material NPC 1: ${DescribeDifference(diff)}`).toBeLessThanOrEqual(1);
        expect(page.errors).toEqual([]);
      } finally {
        await page.closeAsync();
      }
    }, 300_000);
  }
});
