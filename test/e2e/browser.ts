/**
 * Headless Chromium for the end-to-end tests and the browser bench: Debian's `/usr/bin/chromium` driven by
 * playwright-core (never a downloaded browser), with the flags checked on these machines (docs: ENVIRONMENT.md):
 * WebGL2 and WebGPU both run on SwiftShader, no network side traffic.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page, type Request } from "playwright-core";

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

/** A page whose outside requests and errors are being recorded. */
export interface WatchedPage {
  readonly page: Page;
  /** Requests (page and its Web Workers) to anything but the page's own origin: must stay empty. */
  readonly externalRequests: string[];
  /** Console errors and uncaught page errors so far. */
  readonly errors: string[];
  /** Stops recording requests and closes the page. */
  closeAsync(): Promise<void>;
}

/** Opens a new page of `context` that records requests leaving `url`'s origin and the page's errors (not navigated yet). */
export async function OpenWatchedPageAsync(context: BrowserContext, url: string): Promise<WatchedPage> {
  const origin = new URL(url).origin;
  const externalRequests: string[] = [];
  const errors: string[] = [];
  const onRequest = (request: Request): void => {
    const target = request.url();
    // data: and blob: URLs never leave the page.
    if (!target.startsWith(`${origin}/`) && !/^(data|blob):/.test(target)) externalRequests.push(target);
  };
  // Context-wide: requests of the page's Web Workers are reported there too.
  context.on("request", onRequest);
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  const closeAsync = async (): Promise<void> => {
    context.off("request", onRequest);
    await page.close().catch(() => undefined);
  };
  return { page, externalRequests, errors, closeAsync };
}
