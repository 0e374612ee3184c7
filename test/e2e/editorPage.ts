/**
 * The seed editor for tests and benchmarks: page built, a project folder prepared, the server started in this
 * process on a free 127.0.0.1 port, and a helper that opens the page in Chromium and waits for its first grid.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { OpenWatchedPageAsync } from "./browser.js";
import { BuildEditorPageAsync, StartEditorServerAsync, type EditorServer, type EditorTestHook, type WriteFileFunction } from "@npc-faces/tools";
import { ResolveSampleModelAsync, RepoRoot, type SampleModel } from "@npc-faces/samples/sampleModel";

/** The page's global as seen from `page.evaluate` callbacks. */
export interface EditorWindow {
  readonly npcFacesEditorTest: EditorTestHook;
}

/** A served editor. */
export interface EditorSession {
  readonly server: EditorServer;
  readonly model: SampleModel;
  /** The project folder (fresh, empty at start). */
  readonly root: string;
}

/**
 * Builds the page (when stale), resolves the samples' model, empties `.tmp/e2e/<name>/` as the project folder and
 * serves `manifest` (relative to it).
 */
export async function StartEditorSessionAsync(name: string, manifest: string, options: { writeFileAsync?: WriteFileFunction } = {}): Promise<EditorSession> {
  const root = join(RepoRoot, ".tmp", "e2e", name);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const [model, build] = await Promise.all([ResolveSampleModelAsync(), BuildEditorPageAsync()]);
  const server = await StartEditorServerAsync({ root, manifestPath: manifest, modelPath: model.path, pageDir: build.outDir, port: 0, ...options });
  return { server, model, root };
}

/** An editor page that drew its first grid. */
export interface EditorPage {
  readonly page: Page;
  /** Requests to anything but the editor server (page and workers): must stay empty. */
  readonly externalRequests: readonly string[];
  /** Console errors and uncaught page errors. */
  readonly errors: string[];
  closeAsync(): Promise<void>;
}

/** Opens the editor in a new page and waits for `data-editor-ready` (throws with the page's error otherwise). */
export async function OpenEditorPageAsync(context: BrowserContext, url: string, options: { timeoutMs?: number } = {}): Promise<EditorPage> {
  const { page, externalRequests, errors, closeAsync: close } = await OpenWatchedPageAsync(context, url);
  try {
    await page.goto(url, { waitUntil: "load", timeout: 60_000 });
    await WaitForEditorReadyAsync(page, options.timeoutMs);
  } catch (error) {
    await close();
    throw error;
  }
  return { page, externalRequests, errors, closeAsync: close };
}

/** Waits for the ready flag after a (re)load. */
export async function WaitForEditorReadyAsync(page: Page, timeoutMs = 180_000): Promise<void> {
  try {
    await page.waitForFunction("document.body.dataset.editorReady !== undefined || document.body.dataset.editorError !== undefined", null, { timeout: timeoutMs, polling: 200 });
  } catch (error) {
    const status = await page.textContent("#status").catch(() => null);
    throw new Error(`the editor did not become ready (${(error as Error).message.split("\n")[0]}); status: ${status ?? "?"}`, { cause: error });
  }
  const failure = await page.evaluate("document.body.dataset.editorError");
  if (typeof failure === "string") throw new Error(`the editor failed: ${failure}`);
}

/** Waits until every view of the editor drew its latest face. */
export async function WhenEditorIdleAsync(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as EditorWindow).npcFacesEditorTest.whenIdleAsync());
}

/** Moves a slider (`input[data-param=...]`) as a drag would: sets the value and fires `input`. */
export async function SetSliderAsync(page: Page, param: string, value: number): Promise<number> {
  // A string function: the test project has no DOM types.
  return page.evaluate(
    `(() => {
      const input = document.querySelector('input[data-param="${param}"]');
      if (!input) throw new Error("no slider ${param}");
      input.focus();
      input.value = "${value}";
      input.dispatchEvent(new Event("input", { bubbles: true }));
      return Number(input.value);
    })()`,
  );
}
