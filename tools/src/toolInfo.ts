/**
 * The tool's name and version, as written into exported models and baked textures' provenance.
 */
import { readFileSync } from "node:fs";

/** Name of the command-line tool. */
export const ToolName = "npc-faces";

/** Version of `@npc-faces/tools`, read from its package.json (works from `src/` and from `dist/`). */
export const ToolVersion: string = (() => {
  try {
    const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === "string" ? version : "0.0.0";
  } catch {
    // A bundler that inlines this module loses package.json: still produce a usable string.
    return "0.0.0";
  }
})();

/** `npc-faces <version>`: the `tool` field of provenance records. */
export const ToolLabel = `${ToolName} ${ToolVersion}`;
