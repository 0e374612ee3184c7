// @ts-check
/**
 * The files a built Node program loads, found by following its imports from the entry with esbuild (which only
 * parses here; nothing is bundled), so that the program can travel without npm and without the rest of
 * node_modules. Annotations are ignored: a package's `"sideEffects": false` lets a bundler skip an import that Node
 * still runs. Native addons: only the linux-x64 ones (onnxruntime-node's computed require shows esbuild every
 * platform's), with the shared libraries beside them. Every package.json from a file's folder up to the root comes
 * along (module type, exports), and so do the links in node_modules that lead to workspace packages.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { build } from "esbuild";

/**
 * @typedef {object} RuntimeFiles
 * @property {string[]} files  paths relative to the root, sorted
 * @property {{ path: string, target: string }[]} links  symbolic links in node_modules, as they are written
 */

/** @param {string} root @returns {string[]} node_modules entries, scoped packages included */
function NodeModulesEntries(root) {
  const entries = [];
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (name.startsWith("@")) for (const scoped of readdirSync(join(root, "node_modules", name))) entries.push(`node_modules/${name}/${scoped}`);
    else entries.push(`node_modules/${name}`);
  }
  return entries;
}

/**
 * @param {string} root  the repository root
 * @param {string} entry  the program's entry, relative to the root
 * @returns {Promise<RuntimeFiles>}
 */
export async function RuntimeFilesAsync(root, entry) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    ignoreAnnotations: true,
    loader: { ".node": "empty" },
    logLevel: "error",
  });
  const files = new Set(["package.json"]);
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!input.endsWith(".node")) files.add(input);
    else if (input.includes("/linux/x64/")) for (const name of readdirSync(join(root, dirname(input)))) files.add(`${dirname(input)}/${name}`);
  }
  for (const file of [...files]) {
    for (let dir = dirname(file); dir !== "."; dir = dirname(dir)) if (existsSync(join(root, dir, "package.json"))) files.add(`${dir}/package.json`);
  }
  const links = NodeModulesEntries(root)
    .filter((path) => lstatSync(join(root, path)).isSymbolicLink())
    .filter((path) => {
      const prefix = `${relative(root, realpathSync(join(root, path)))}/`;
      return [...files].some((file) => file.startsWith(prefix));
    })
    .map((path) => ({ path, target: readlinkSync(join(root, path)) }));
  return { files: [...files].sort(), links };
}
