/**
 * The light install: `info`, `bake`, `sheet`, `editor` and `export --stamp` need only the CLI's dependencies. Data
 * sets, training, metrics and the native engine use packages that are optional peers of `@npc-faces/tools` (hundreds
 * of MB: tfjs, nsfwjs, onnxruntime-node, ...); they load on demand, and a missing one is reported as one line that
 * names the package to add.
 */
import { readFileSync } from "node:fs";

/** Optional peers and their version ranges, from this package's package.json (src/ and dist/ alike). */
const OptionalPeers: Record<string, string> = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { peerDependencies?: Record<string, string> };
    return pkg.peerDependencies ?? {};
  } catch {
    return {};
  }
})();

/** What each optional package is for, in the message. */
const Purposes: Record<string, string> = {
  "@npc-faces/trainer": "training, export --run/--untrained, import, checkpoint, metrics, nearest and control-check",
  "@dicebear/core": "dataset --source dicebear",
  "@dicebear/collection": "dataset --source dicebear",
  "@resvg/resvg-js": "dataset --source dicebear/facesjs",
  facesjs: "dataset --source facesjs",
  "onnxruntime-node": "--engine native",
  esbuild: "building pages from the repository's sources",
  nsfwjs: "metrics (its InceptionV3 is the feature network)",
};

/** Optional peers of the trainer, which the CLI reaches through it. */
const TrainerPeers: Record<string, string> = { nsfwjs: "4.4.0", "@tensorflow/tfjs-node": "4.22.0", "@tensorflow/tfjs-node-gpu": "4.22.0" };

/** The package an error says is missing (`Cannot find package 'x'` / `Cannot find module 'x'`), if any. */
export function MissingPackageOf(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  const match = /Cannot find (?:package|module) '((?:@[^/'\s]+\/)?[^/'\s]+)[^']*'/.exec(message);
  if (!match) return undefined;
  const name = match[1];
  // A relative or absolute path is a broken installation, not a missing optional package.
  return name.startsWith(".") || name.startsWith("/") ? undefined : name;
}

/** One line for a missing package: what needs it and the command that adds it (with the range this CLI expects). */
export function MissingPackageMessage(name: string): string {
  const range = OptionalPeers[name] ?? TrainerPeers[name];
  const purpose = Purposes[name];
  const spec = range === undefined ? name : `${name}@${range}`;
  // A range such as ">=1 <2" must be quoted for the shell; "1.30.0" or "^9.4.3" need not.
  const install = `npm install ${/[\s<>|]/.test(spec) ? `"${spec}"` : spec}`;
  // npm 11.19 still runs install scripts; onnxruntime-node's downloads CUDA providers (unused here: the native
  // engine runs on the CPU binaries in the package) and fails without network access unless skipped.
  const flags = name === "onnxruntime-node" ? " --onnxruntime-node-install=skip" : "";
  return `${purpose ?? "this command"} needs the package ${name}, which is not installed: ${install}${flags}`;
}
