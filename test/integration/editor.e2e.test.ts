/**
 * End-to-end: the seed editor in real headless Chromium (Debian's, through playwright-core), served by the editor
 * server in this process. A level designer's session: open the editor, browse two pages, lock three faces with names
 * (one after moving sliders, one with a label chosen, one bred from two faces), undo/redo, edit and remove entries,
 * save; the saved manifest holds exactly that; a reload brings the state back; `npc-faces bake --manifest` of the
 * saved file produces the faces the editor showed. Takes the README's screenshot.
 *
 * Pixel bounds (the editor's faces come from onnxruntime-web's WASM build in the page's face worker):
 *  - vs onnxruntime-web/wasm in Node on the same model: bit-identical (same engine);
 *  - vs the baked PNGs (`npc-faces bake`, whose default engine is the same canonical engine): bit-identical — a
 *    face the designer locked is the face the build bakes.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator, FaceLabelValues, ManifestNpcToFaceRequest, type FaceManifest } from "@npc-faces/runtime";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { DecodePngRgba, type ShownFace } from "@npc-faces/tools";
import { RepoRoot } from "@npc-faces/samples/sampleModel";
import { LaunchChromiumAsync, type TestBrowser } from "../e2e/browser.js";
import { ComparePixels, DescribeDifference, type PixelDifference } from "../e2e/crowdPage.js";
import { OpenEditorPageAsync, SetSliderAsync, StartEditorSessionAsync, WaitForEditorReadyAsync, WhenEditorIdleAsync, type EditorSession, type EditorWindow } from "../e2e/editorPage.js";

const ScreenshotPath = join(RepoRoot, "docs", "images", "seed-editor.png");
const ManifestName = "town.manifest.json";
const Cli = join(RepoRoot, "tools", "bin", "npc-faces.js");
const Bounds = { web: { maxAbs: 0, maxFraction: 0 }, bake: { maxAbs: 0, maxFraction: 0 } } as const;

let session: EditorSession;
let browser: TestBrowser;
let webGenerator: FaceGenerator;

beforeAll(async () => {
  [session, browser] = await Promise.all([StartEditorSessionAsync("editor-project", ManifestName), LaunchChromiumAsync({ viewport: { width: 1280, height: 800 } })]);
  webGenerator = await FaceGenerator.loadAsync(await readFile(session.model.path), { backend: CreateWebBackend({ numThreads: 1 }), source: session.model.path });
}, 180_000);

afterAll(async () => {
  await Promise.all([browser?.closeAsync(), session?.server.closeAsync(), webGenerator?.disposeAsync()]);
});

type Hook = EditorWindow["npcFacesEditorTest"];
type State = ReturnType<Hook["state"]>;

describe.sequential("seed editor in headless Chromium", () => {
  it("browse, tune, breed, lock, undo/redo, save, reload; baking the manifest gives the faces the editor showed", async () => {
    const editor = await OpenEditorPageAsync(browser.context, session.server.url);
    const { page } = editor;
    const state = (): Promise<State> => page.evaluate(() => (globalThis as unknown as EditorWindow).npcFacesEditorTest.state());
    const blur = (): Promise<void> => page.evaluate("document.activeElement && document.activeElement.blur()") as Promise<void>;
    try {
      const info = await page.evaluate(() => {
        const hook = (globalThis as unknown as EditorWindow).npcFacesEditorTest;
        return { isolated: hook.crossOriginIsolated, backend: hook.backendName, engine: hook.engineDescription, timings: hook.timings };
      });
      expect(info.isolated, "the editor must be cross-origin isolated (COOP/COEP)").toBe(true);
      expect(info.engine).toMatch(/WebGL2/);
      expect((await state()).gridSeeds).toEqual(Array.from({ length: 24 }, (_, i) => i));

      // Browse two pages: the keyboard (PageDown), then the button.
      await blur();
      await page.keyboard.press("PageDown");
      await WhenEditorIdleAsync(page);
      expect((await state()).page).toBe(1);
      await page.click("#nextPage");
      await WhenEditorIdleAsync(page);
      const browsed = await state();
      expect(browsed.page).toBe(2);
      expect(browsed.gridSeeds).toEqual(Array.from({ length: 24 }, (_, i) => 48 + i));
      // A grid face is the runtime's face for its seed, bit for bit.
      const grid = await page.evaluate(() => (globalThis as unknown as EditorWindow).npcFacesEditorTest.gridFace(50));
      expect(grid).toBeDefined();
      expect(ComparePixels(Pixels(grid!), (await webGenerator.generateAsync([{ seed: 50 }]))[0].data).differingBytes).toBe(0);

      // Face 1: open seed 50, move sliders (truncation and the first control), lock it with a name.
      const control = session.model.metadata.controls[0];
      await page.click('.cell[data-seed="50"]');
      const psi = await SetSliderAsync(page, "psi", 0.5);
      const controlValue = control ? await SetSliderAsync(page, `control_${control.name}`, control.min + (control.max - control.min) * 0.75) : undefined;
      await LockAsync(page, "guard_01", "Gate guard");
      // Face 2: the next face by keyboard, a label fixed by its choice (a conditional model's), locked.
      await blur();
      await page.keyboard.press("ArrowRight");
      expect((await state()).current).toEqual({ seed: 51 });
      const label = session.model.metadata.labels.find((l) => l.values.length > 1);
      const labels = label ? { [label.name]: label.values[label.values.length - 1] } : undefined;
      if (label) {
        // Unset, the choice names the value the seed draws (the runtime's FaceLabelValues).
        const drawnText = await page.$eval(`select[data-label="${label.name}"]`, (select) => (select as HTMLSelectElement).options[0].text);
        const drawn = FaceLabelValues(session.model.metadata, { seed: 51 })[label.name];
        expect(drawn).toBeDefined();
        expect(drawnText).toBe(`drawn by the seed: ${drawn}`);
        await page.selectOption(`select[data-label="${label.name}"]`, labels![label.name]);
      }
      expect((await state()).current).toEqual({ seed: 51, ...(labels ? { labels } : {}) });
      await LockAsync(page, "smith", "Smith");
      // Face 3: breed 60 (click) with 66 (Shift+click), crossover layer 3, mix 0.8.
      await page.click('.cell[data-seed="60"]');
      await page.click('.cell[data-seed="66"]', { modifiers: ["Shift"] });
      await SetSliderAsync(page, "crossover", 3);
      await SetSliderAsync(page, "mix", 0.8);
      await WhenEditorIdleAsync(page);
      expect((await state()).current).toEqual({ seed: 60, mixSeed: 66, mixCrossover: 3, mix: 0.8 });
      await LockAsync(page, "child_01", "Smith's kid");

      // Undo takes the last lock back, redo restores it.
      await blur();
      await page.keyboard.press("Control+z");
      expect((await state()).manifest.npcs.map((n) => n.id)).toEqual(["guard_01", "smith"]);
      await page.keyboard.press("Control+Shift+z");
      expect((await state()).manifest.npcs.map((n) => n.id)).toEqual(["guard_01", "smith", "child_01"]);

      // Edit and remove locked entries: edit opens an NPC's parameters; remove (then undo) takes it out and back.
      await page.click('#npcList li[data-id="guard_01"] button.edit');
      expect((await state()).editingId).toBe("guard_01");
      expect((await state()).current).toMatchObject({ seed: 50, psi });
      await page.click('#npcList li[data-id="smith"] button.remove');
      expect((await state()).manifest.npcs.map((n) => n.id)).toEqual(["guard_01", "child_01"]);
      await blur();
      await page.keyboard.press("Control+z");
      expect((await state()).manifest.npcs.map((n) => n.id)).toEqual(["guard_01", "smith", "child_01"]);
      await page.click('#npcList li[data-id="child_01"] button.edit');

      // Save (Ctrl+S) and check the file.
      expect((await state()).dirty).toBe(true);
      await page.keyboard.press("Control+s");
      await page.waitForFunction("document.getElementById('status').textContent.startsWith('saved')", null, { timeout: 20_000 });
      const file = join(session.root, ManifestName);
      const saved = JSON.parse(await readFile(file, "utf8")) as FaceManifest;
      expect(saved).toEqual({
        format: "npc-faces-manifest",
        formatVersion: 1,
        model: { sha256: session.server.modelInfo.sha256, name: session.model.metadata.name },
        npcs: [
          { id: "guard_01", name: "Gate guard", seed: 50, psi, ...(control ? { controls: { [control.name]: controlValue } } : {}) },
          { id: "smith", name: "Smith", seed: 51, ...(labels ? { labels } : {}) },
          { id: "child_01", name: "Smith's kid", seed: 60, mixSeed: 66, mixCrossover: 3, mix: 0.8 },
        ],
      });
      expect(psi).toBe(0.5);
      expect((await state()).dirty).toBe(false);

      // What the editor showed for each locked face (the manifest panel's thumbnails), and the detail view.
      await WhenEditorIdleAsync(page);
      const shown = new Map<string, ShownFace>();
      for (const npc of saved.npcs) {
        const face = await page.evaluate((id) => (globalThis as unknown as EditorWindow).npcFacesEditorTest.lockedFace(id), npc.id);
        expect(face, npc.id).toBeDefined();
        expect(face!.request).toEqual(ManifestNpcToFaceRequest(npc));
        shown.set(npc.id, face!);
      }
      const detail = await page.evaluate(() => (globalThis as unknown as EditorWindow).npcFacesEditorTest.detailFace());
      expect(detail!.base64).toBe(shown.get("child_01")!.base64);

      // Screenshot for the README (the editor with three locked faces, the bred child open).
      await mkdir(join(RepoRoot, ".tmp", "e2e"), { recursive: true });
      const shot = join(RepoRoot, ".tmp", "e2e", "seed-editor.png");
      await page.screenshot({ path: shot });
      if (process.env.UPDATE_SCREENSHOT === "1" || !(await stat(ScreenshotPath).catch(() => undefined))) {
        await mkdir(join(RepoRoot, "docs", "images"), { recursive: true });
        await copyFile(shot, ScreenshotPath);
      }

      // Reload: the manifest and the view come back.
      await page.reload({ waitUntil: "load" });
      await WaitForEditorReadyAsync(page);
      await WhenEditorIdleAsync(page);
      const back = await state();
      expect(back.manifest.npcs).toEqual(saved.npcs);
      expect(back.page).toBe(2);
      expect(back.current).toEqual({ seed: 60, mixSeed: 66, mixCrossover: 3, mix: 0.8 });
      expect(back.editingId).toBe("child_01");
      expect(back.dirty).toBe(false);
      for (const npc of saved.npcs) {
        const face = await page.evaluate((id) => (globalThis as unknown as EditorWindow).npcFacesEditorTest.lockedFace(id), npc.id);
        expect(face!.base64, `${npc.id} after reload`).toBe(shown.get(npc.id)!.base64);
      }

      // Bake the saved manifest with the CLI and compare with what the editor showed.
      const out = join(session.root, "baked");
      const { stdout } = await promisify(execFile)(process.execPath, [Cli, "bake", "--model", session.model.path, "--manifest", file, "--out", out, "--workers", "1"], { timeout: 120_000 });
      const lines: string[] = [stdout.trim()];
      for (const npc of saved.npcs) {
        const editorPixels = Pixels(shown.get(npc.id)!);
        const baked = DecodePngRgba(await readFile(join(out, `${npc.id}.png`)));
        expect([baked.width, baked.height]).toEqual([shown.get(npc.id)!.width, shown.get(npc.id)!.height]);
        const [web] = await webGenerator.generateAsync([ManifestNpcToFaceRequest(npc)]);
        const vsWeb = ComparePixels(editorPixels, web.data);
        const vsBake = ComparePixels(editorPixels, baked.data);
        lines.push(`${npc.id}: editor vs onnxruntime-web/wasm in Node ${DescribeDifference(vsWeb)}; editor vs baked PNG ${DescribeDifference(vsBake)}`);
        ExpectWithin(vsWeb, Bounds.web, `${npc.id} vs onnxruntime-web`);
        ExpectWithin(vsBake, Bounds.bake, `${npc.id} vs npc-faces bake --manifest`);
      }
      console.log(`[e2e editor] ${info.backend}, ${info.engine}; first grid ${(info.timings.firstGrid / 1000).toFixed(1)} s after navigation\n  ${lines.join("\n  ")}`);

      expect(editor.externalRequests).toEqual([]);
      expect(editor.errors).toEqual([]);
    } finally {
      await editor.closeAsync();
    }
  }, 400_000);
});

describe.sequential("seed editor: opening a manifest of another model, and a malformed one", () => {
  it("warns about the model mismatch; lists every problem of a malformed file and refuses to overwrite it", async () => {
    const other = await StartEditorSessionAsync("editor-project-2", "m.json");
    const file = join(other.root, "m.json");
    await writeFile(file, JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256: "0".repeat(64), name: "old-model" }, npcs: [{ id: "a", name: "A", seed: 1 }] }));
    const editor = await OpenEditorPageAsync(browser.context, other.server.url);
    const { page } = editor;
    const messages = (): Promise<string> => page.evaluate(() => (globalThis as unknown as EditorWindow).npcFacesEditorTest.state().messages);
    try {
      expect(await messages()).toMatch(/model\.sha256: the manifest was saved for model 000000000000… \("old-model"\).*the same seeds give different faces/);
      expect(await page.locator("#npcList li").count()).toBe(1);

      const broken = '{"format":"npc-faces-manifest","formatVersion":1,"model":{"sha256":"x"},"npcs":[{"id":"../a","name":"A","seed":-1}]}';
      await writeFile(file, broken);
      await page.reload({ waitUntil: "load" });
      await WaitForEditorReadyAsync(page);
      const text = await messages();
      expect(text).toMatch(/m\.json is not a valid manifest \(3 problems\)/);
      for (const path of ["model.sha256:", "npcs[0].id:", "npcs[0].seed:"]) expect(text).toContain(path);
      await page.click('.cell[data-seed="3"]');
      await LockAsync(page, "x", "X");
      await page.click("#saveButton");
      await page.waitForFunction("document.getElementById('messages').textContent.includes('saving is disabled')", null, { timeout: 10_000 });
      expect(await readFile(file, "utf8")).toBe(broken);
      expect(editor.errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    } finally {
      await editor.closeAsync();
      await other.server.closeAsync();
    }
  }, 200_000);
});

async function LockAsync(page: import("playwright-core").Page, id: string, name: string): Promise<void> {
  await page.fill("#npcId", id);
  await page.fill("#npcName", name);
  await page.click("#lockButton");
  await page.waitForSelector(`#npcList li[data-id="${id}"]`);
}

function Pixels(face: ShownFace): Uint8Array {
  return new Uint8Array(Buffer.from(face.base64, "base64"));
}

function ExpectWithin(diff: PixelDifference, bound: { maxAbs: number; maxFraction: number }, label: string): void {
  expect(diff.maxAbs, `${label}: ${DescribeDifference(diff)}`).toBeLessThanOrEqual(bound.maxAbs);
  expect(diff.differingBytes / diff.totalBytes, `${label}: ${DescribeDifference(diff)}`).toBeLessThanOrEqual(bound.maxFraction);
}
