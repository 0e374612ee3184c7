/**
 * Seed editor benchmark (issue 7): how long a level designer waits for the first grid of 24 faces after opening
 * the editor in headless Chromium (navigation start -> all 24 canvases drawn, as the page measures it), split into
 * model loading (fetch + onnxruntime-web session in the face worker) and generation, plus the next page of 24.
 * Two page loads: the first in a fresh browser, the second with the browser's caches warm.
 */
import { ChromiumPath, LaunchChromiumAsync } from "../e2e/browser.js";
import { OpenEditorPageAsync, StartEditorSessionAsync, WhenEditorIdleAsync, type EditorWindow } from "../e2e/editorPage.js";
import { FormatTable } from "./benchUtil.js";

/** Runs the editor section of `npm run bench` and returns its lines. */
export async function RunEditorBenchAsync(): Promise<string[]> {
  const session = await StartEditorSessionAsync("editor-bench", "bench.manifest.json");
  const browser = await LaunchChromiumAsync({ viewport: { width: 1280, height: 800 } });
  const rows: (string | number)[][] = [["page load", "first grid of 24 (s)", "model loaded (s)", "24 faces generated (s)", "next page of 24 (s)"]];
  let backend = "";
  try {
    for (const label of ["cold (fresh browser)", "warm (reload)"]) {
      const editor = await OpenEditorPageAsync(browser.context, session.server.url);
      try {
        const { page } = editor;
        const info = await page.evaluate(() => {
          const hook = (globalThis as unknown as EditorWindow).npcFacesEditorTest;
          return { timings: hook.timings, backend: hook.backendName, isolated: hook.crossOriginIsolated };
        });
        backend = `${info.backend}${info.isolated ? ", cross-origin isolated" : ", NOT cross-origin isolated"}`;
        const started = performance.now();
        await page.click("#nextPage");
        await WhenEditorIdleAsync(page);
        const nextPageS = (performance.now() - started) / 1000;
        rows.push([label, (info.timings.firstGrid / 1000).toFixed(1), (info.timings.modelLoaded / 1000).toFixed(1), (info.timings.firstGridPageMs / 1000).toFixed(1), nextPageS.toFixed(1)]);
      } finally {
        await editor.closeAsync();
      }
    }
  } finally {
    await Promise.all([browser.closeAsync(), session.server.closeAsync()]);
  }
  const { metadata } = session.model;
  return [
    `seed editor in headless Chromium (${ChromiumPath}), model "${metadata.name}" ${metadata.resolution}x${metadata.resolution} (${session.model.displayPath}); faces on ${backend}`,
    ...FormatTable(rows),
    "first grid = navigation start -> the 24 faces of page 1 drawn (includes the page, Babylon and onnxruntime-web start-up and the model load)",
  ];
}
