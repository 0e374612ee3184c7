/**
 * Headless Chromium for the end-to-end tests and the browser bench: Debian's `/usr/bin/chromium` driven by
 * playwright-core (never a downloaded browser), with the flags checked on these machines (docs: ENVIRONMENT.md):
 * WebGL2 and WebGPU both run on SwiftShader, no network side traffic.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** The browser binary (installed with `apt-get install -y chromium`; `.ci/run` does it). */
export const ChromiumPath = process.env.NPC_FACES_CHROMIUM ?? "/usr/bin/chromium";

/** The flags listed in ENVIRONMENT.md. WebGPU also needs the page on a trustworthy origin (127.0.0.1). */
export const EnvironmentChromiumArgs: readonly string[] = [
  "--headless=new",
  "--no-sandbox",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--enable-unsafe-webgpu",
  "--enable-unsafe-swiftshader",
  "--use-angle=swiftshader",
];

/**
 * Added for WebGPU *canvases*: with the flags above alone, WebGPU compute works, but the first frame presented to a
 * WebGPU canvas destroys the device (Chromium 156 logs "Could not find SharedImageBackingFactory ...
 * WebgpuSwapChainTexture": the GL compositor cannot share images with Dawn's Vulkan SwiftShader), so Babylon's
 * WebGPUEngine loses its context in a loop. Running Chromium's own Vulkan on SwiftShader gives the swap chain a backing.
 * WebGL2 is unaffected (it stays on ANGLE/SwiftShader).
 */
export const WebGpuCanvasArgs: readonly string[] = ["--use-vulkan=swiftshader", "--enable-features=Vulkan"];

/** Every flag the tests launch Chromium with. */
export const ChromiumArgs: readonly string[] = [...EnvironmentChromiumArgs, ...WebGpuCanvasArgs];

/** A running browser with its own fresh profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  /** Closes the browser and deletes its profile folder. */
  closeAsync(): Promise<void>;
}

/**
 * Starts Chromium with a fresh user-data folder (no state shared between runs).
 * @throws with an install hint when the binary is missing
 */
export async function LaunchChromiumAsync(options: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "npc-faces-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: ChromiumPath,
      args: [...ChromiumArgs],
      viewport: options.viewport ?? { width: 960, height: 600 },
      timeout: 60_000,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    const missing = /ENOENT|Failed to launch|doesn't exist/i.test((error as Error).message);
    throw new Error(
      `cannot start Chromium at ${ChromiumPath}${missing ? " (install it with `apt-get install -y chromium`)" : ""}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    context,
    async closeAsync() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
