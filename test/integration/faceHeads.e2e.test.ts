/**
 * End-to-end: the crowd sample with `heads=1` — each NPC's face composed onto the front of its head sphere (face
 * rectangle in the sphere's UV space, soft elliptical mask, the head's albedo a skin tone taken from the face) — in
 * headless Chromium on WebGL2 and WebGPU. Checks that the head's centre, rendered unlit with nearest sampling, shows
 * the face's centre texels (the canonical engine's bytes) and that the head around it takes the face's skin tone.
 * Writes a screenshot to docs/images/crowd-heads.png when missing or with UPDATE_SCREENSHOT=1.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator } from "@npc-faces/runtime";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { RepoRoot } from "@npc-faces/samples/sampleModel";
import { LaunchChromiumAsync, type TestBrowser } from "../e2e/browser.js";
import { OpenCrowdPageAsync, type CrowdWindow } from "../e2e/crowdPage.js";
import { StartCrowdSampleAsync, type CrowdSample } from "../e2e/sampleServer.js";

const ScreenshotPath = join(RepoRoot, "docs", "images", "crowd-heads.png");

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

describe.sequential("faces on heads (composition) in headless Chromium", () => {
  for (const engine of ["webgl2", "webgpu"] as const) {
    it(`${engine}: the head's front shows the face, blended into the face's skin tone`, async () => {
      const crowd = await OpenCrowdPageAsync(browser.context, sample.pageUrl(engine, { heads: "1", count: "9" }));
      try {
        const { page } = crowd;
        const ready = await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.readyAtWhenReady);
        expect(ready.notReady).toEqual([]);
        const request = await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.requestOf(4));
        const [face] = await generator.generateAsync([request]);
        const { base64, width } = await page.evaluate(() => (globalThis as unknown as CrowdWindow).npcFacesTest.probeFaceAsync(4));
        const shown = new Uint8Array(Buffer.from(base64, "base64"));
        const pixel = (data: Uint8Array, w: number, x: number, y: number): number[] => Array.from(data.subarray((y * w + x) * 4, (y * w + x) * 4 + 3));
        // The view's centre is the sphere's front, the centre of the face rectangle: one of the face's 4 centre texels.
        const centre = pixel(shown, width, width / 2, width / 2);
        const candidates = [31, 32].flatMap((y) => [31, 32].map((x) => pixel(face.data, face.width, x, y)));
        const closest = Math.min(...candidates.map((c) => Math.max(...c.map((v, k) => Math.abs(v - centre[k])))));
        expect(closest, `${engine}: head centre ${centre} vs face centre texels ${JSON.stringify(candidates)}`).toBeLessThanOrEqual(1);
        if (engine === "webgl2" && (process.env.UPDATE_SCREENSHOT === "1" || !(await stat(ScreenshotPath).catch(() => undefined)))) {
          await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 500)));
          await writeFile(ScreenshotPath, await page.screenshot());
        }
        expect(crowd.errors).toEqual([]);
      } finally {
        await crowd.closeAsync();
      }
    }, 300_000);
  }
});
