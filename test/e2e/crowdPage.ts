/**
 * Driving the crowd sample page in Chromium: open it, wait for its ready flag, talk to its `window.npcFacesTest`
 * hook, and compare face pixels. Shared by the end-to-end test and the browser bench.
 */
import type { BrowserContext, Page } from "playwright-core";
import { OpenWatchedPageAsync } from "./browser.js";
import type { NpcFacesTestHook } from "@npc-faces/samples/crowd/testHook";

/** The page's global as seen from `page.evaluate` callbacks (the test project has no DOM types). */
export interface CrowdWindow {
  readonly npcFacesTest: NpcFacesTestHook;
}

/** An opened crowd page that reached its ready flag. */
export interface CrowdPage {
  readonly page: Page;
  /** `document.body.dataset.npcFacesReady`: the number of faces ready at `scene.whenReadyAsync()`. */
  readonly readyCount: number;
  /** Wall-clock ms from navigation to the ready flag, measured from the test process. */
  readonly loadMs: number;
  /** Requests (page and its workers) to anything but the sample server: must stay empty. */
  readonly externalRequests: readonly string[];
  /** Console errors and uncaught page errors so far. */
  readonly errors: readonly string[];
  /** Stops recording requests and closes the page. */
  closeAsync(): Promise<void>;
}

/**
 * Opens `url` in a new page of `context` and waits until the page sets `data-npc-faces-ready` (or
 * `data-npc-faces-error`, which throws with the page's message and console errors).
 */
export async function OpenCrowdPageAsync(context: BrowserContext, url: string, options: { timeoutMs?: number } = {}): Promise<CrowdPage> {
  const { page, externalRequests, errors, closeAsync: close } = await OpenWatchedPageAsync(context, url);
  const started = Date.now();
  try {
    await page.goto(url, { waitUntil: "load", timeout: 60_000 });
    await page.waitForFunction("document.body.dataset.npcFacesReady !== undefined || document.body.dataset.npcFacesError !== undefined", null, {
      timeout: options.timeoutMs ?? 120_000,
      polling: 250,
    });
  } catch (error) {
    const status = await page.textContent("#status").catch(() => null);
    await close();
    throw new Error(`${url}: the crowd page did not become ready (${(error as Error).message.split("\n")[0]}); status: ${status ?? "?"}; errors: ${errors.join(" | ") || "none"}`, { cause: error });
  }
  const loadMs = Date.now() - started;
  const failure = await page.evaluate("document.body.dataset.npcFacesError");
  if (typeof failure === "string") {
    await close();
    throw new Error(`${url}: the crowd page failed: ${failure}; errors: ${errors.join(" | ") || "none"}`);
  }
  const readyCount = Number(await page.evaluate("document.body.dataset.npcFacesReady"));
  return { page, readyCount, loadMs, externalRequests, errors, closeAsync: close };
}

/** Reads NPC `index`'s face texture back from the GPU (top row first, RGBA8). */
export async function ReadFaceTextureAsync(page: Page, index: number): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { width, height, base64 } = await page.evaluate((i) => (globalThis as unknown as CrowdWindow).npcFacesTest.readTexturePixelsAsync(i), index);
  return { width, height, data: new Uint8Array(Buffer.from(base64, "base64")) };
}

/** How two RGBA8 images differ. */
export interface PixelDifference {
  /** Largest absolute difference of one byte (0 = bit-identical). */
  readonly maxAbs: number;
  /** Bytes that differ. */
  readonly differingBytes: number;
  /** Pixels with at least one differing byte. */
  readonly differingPixels: number;
  readonly totalBytes: number;
}

/** Compares two RGBA8 images of the same size. @throws when the sizes differ */
export function ComparePixels(a: Uint8Array, b: Uint8Array): PixelDifference {
  if (a.length !== b.length) throw new Error(`ComparePixels: ${a.length} vs ${b.length} bytes`);
  let maxAbs = 0;
  let differingBytes = 0;
  let differingPixels = 0;
  for (let p = 0; p < a.length; p += 4) {
    let pixelDiffers = false;
    for (let c = p; c < p + 4; c++) {
      const d = Math.abs(a[c] - b[c]);
      if (d === 0) continue;
      differingBytes++;
      pixelDiffers = true;
      if (d > maxAbs) maxAbs = d;
    }
    if (pixelDiffers) differingPixels++;
  }
  return { maxAbs, differingBytes, differingPixels, totalBytes: a.length };
}

/** "bit-identical" or "max |diff| 1, 12 of 16384 bytes differ". */
export function DescribeDifference(d: PixelDifference): string {
  return d.differingBytes === 0 ? `bit-identical (${d.totalBytes} bytes)` : `max |diff| ${d.maxAbs}, ${d.differingBytes} of ${d.totalBytes} bytes (${d.differingPixels} pixels) differ`;
}
