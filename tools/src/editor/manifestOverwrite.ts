/**
 * What a save may replace: the editor writes manifests only. A path inside the project that names no file yet is a
 * new manifest; an existing file is replaced only when it already is one (JSON whose `format` is the manifest
 * format), so a save can never overwrite `package.json`, a tsconfig or any other project file.
 */
import { readFile } from "node:fs/promises";
import { ManifestFormatName } from "@npc-faces/runtime";
import { EditorRefusal } from "./editorRefusal.js";

/**
 * @param file absolute path (already confined to the project folder)
 * @param shown the path as the user knows it, for the message
 * @throws EditorRefusal when `file` exists and is not a manifest
 */
export async function CheckOverwritableAsync(file: string, shown: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new EditorRefusal(`${shown}: cannot be replaced (${(error as Error).message})`);
  }
  let format: unknown;
  try {
    format = (JSON.parse(text) as { format?: unknown } | null)?.format;
  } catch {
    format = undefined;
  }
  if (format !== ManifestFormatName) {
    throw new EditorRefusal(`${shown}: exists and is not an npc-faces manifest (no "format": "${ManifestFormatName}"); the editor only writes manifests, choose a new .json file`);
  }
}
