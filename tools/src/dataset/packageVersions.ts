/** Reads installed packages' package.json (versions, authors) without relying on their `exports`. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The parts of a package.json the data-set tools read. */
export interface PackageMetadata {
  name: string;
  version: string;
  license?: string;
  author?: string | { name?: string; url?: string };
  homepage?: string;
}

const cache = new Map<string, PackageMetadata>();

/**
 * package.json of an installed package, looked up the way Node resolves packages (node_modules folders
 * from this file upwards), so packages whose `exports` hide package.json still work.
 */
export function ReadPackageMetadata(name: string): PackageMetadata {
  const cached = cache.get(name);
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8")) as PackageMetadata;
      cache.set(name, json);
      return json;
    } catch {
      // not installed at this level: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the installed package ${name}`);
    dir = parent;
  }
}

/** Installed version of a package. */
export function PackageVersion(name: string): string {
  return ReadPackageMetadata(name).version;
}

/** This tool's own version (recorded in every manifest). */
export function ToolsVersion(): string {
  // dist/dataset/x.js and src/dataset/x.ts are both two levels below the package root.
  const json = JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8"));
  return String(json.version);
}
