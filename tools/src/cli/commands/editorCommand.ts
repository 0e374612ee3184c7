/**
 * `npc-faces editor`: the level designer's seed editor. Builds the page when needed, then serves it on the loopback
 * interface until Ctrl+C; it opens no browser and listens nowhere else.
 */
import { Command, Option } from "commander";
import { resolve } from "node:path";
import { IntegerParser } from "../argParsers.js";
import { DefaultModelHelp } from "../cliFormat.js";
import { CliFailure, CliUsageError } from "../cliErrors.js";

/** Parsed flags of `npc-faces editor`. */
interface EditorFlags {
  model?: string;
  manifest: string;
  port: number;
  root?: string;
  host: string;
  rebuild: boolean;
}

/** Default manifest file name, in the project folder. */
export const DefaultManifestName = "npc-faces.manifest.json";

/** `npc-faces editor`: see its `--help` and docs/editor.md. */
export function EditorCommand(): Command {
  return new Command("editor")
    .summary("the seed editor: browse, tune, breed and lock faces into a manifest")
    .description(
      "Serves the seed editor page on http://127.0.0.1:<port>/ (loopback only; nothing else is opened). " +
        "The page browses faces by seed, edits one with a slider per control, breeds two (style mixing), and locks faces " +
        "as NPCs into the manifest, which it saves atomically. Manifests are read and written only inside the project folder " +
        "(--root, default: the current folder).",
    )
    .option("--model <file>", `model file (.onnx); ${DefaultModelHelp}`)
    .option("--manifest <file>", `manifest to edit, inside the project folder; created on the first save`, DefaultManifestName)
    .addOption(new Option("--port <port>", "port on 127.0.0.1 (0 = any free port)").default(8090).argParser(IntegerParser(0, 65535)))
    .option("--root <dir>", "project folder: manifest paths must resolve inside it (default: the current folder)")
    .option("--host <address>", "loopback address to listen on (127.0.0.1, localhost or ::1; any other is refused)", "127.0.0.1")
    .option("--rebuild", "rebuild the page even when it is up to date", false)
    .addHelpText("after", "\nExamples:\n  npc-faces editor --model faces.onnx --manifest levels/town.json\n  npc-faces editor --port 0        # any free port\n")
    .action(async (flags: EditorFlags) => {
      await RunEditorAsync(flags);
    });
}

async function RunEditorAsync(flags: EditorFlags): Promise<void> {
  const { CheckEditorHost, EditorRefusal, ResolveProjectPathAsync, StartEditorServerAsync } = await import("../../editor/editorServer.js");
  try {
    CheckEditorHost(flags.host);
  } catch (error) {
    throw new CliUsageError(`--host: ${(error as Error).message}`);
  }
  const root = resolve(flags.root ?? process.cwd());
  // Relative to where the command runs (like any file argument), then checked to be inside the project folder.
  const manifest = resolve(flags.manifest);
  try {
    await ResolveProjectPathAsync(root, manifest);
  } catch (error) {
    if (error instanceof EditorRefusal) throw new CliUsageError(`--manifest ${error.message}`);
    throw error;
  }
  const [{ BuildEditorPageAsync }, { DefaultModelPath }] = await Promise.all([import("../../editor/editorBuild.js"), import("@npc-faces/runtime/node")]);
  const modelPath = flags.model !== undefined ? resolve(flags.model) : DefaultModelPath();
  const build = await BuildEditorPageAsync({ force: flags.rebuild });
  if (build.rebuilt) process.stderr.write(`built the editor page in ${(build.milliseconds / 1000).toFixed(1)} s\n`);
  let server;
  try {
    server = await StartEditorServerAsync({ root, manifestPath: manifest, modelPath, pageDir: build.outDir, port: flags.port, host: flags.host });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE") throw new CliFailure(`--port ${flags.port} is in use; choose another (or --port 0 for any free port)`);
    if (error instanceof EditorRefusal) throw new CliUsageError(error.message);
    if (e.name === "NpcFacesError" || e.code === "ENOENT") throw new CliFailure(`${flags.model !== undefined ? "--model" : "the default model"} ${e.message}`);
    throw error;
  }
  const info = server.modelInfo;
  process.stdout.write(
    `npc-faces editor: ${server.url}\n  model ${info.modelPath} "${info.name}"${info.trained ? "" : " (untrained: the faces are noise)"} sha256 ${info.sha256.slice(0, 12)}\n` +
      `  manifest ${info.manifestPath} in ${server.root}\nCtrl+C stops.\n`,
  );
  await new Promise<void>((resolvePromise) => {
    const stop = (): void => {
      void server.closeAsync().finally(resolvePromise);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
