import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const srcDir = fileURLToPath(new URL("../src", import.meta.url));

function SourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? SourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

// Static imports/exports, dynamic import() and require() of a module specifier.
const ImportPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;
const NodeOnly = /^(node:|onnxruntime-node$|fs$|path$|os$|url$|crypto$|child_process$|worker_threads$)/;

describe("runtime core is platform-neutral", () => {
  it("imports node:* or onnxruntime-node only under runtime/src/node", () => {
    const offenders: string[] = [];
    const files = SourceFiles(srcDir);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const rel = relative(srcDir, file).split("\\").join("/");
      if (rel.startsWith("node/")) continue;
      for (const match of readFileSync(file, "utf8").matchAll(ImportPattern)) {
        if (NodeOnly.test(match[1])) offenders.push(`${rel} imports "${match[1]}"`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("imports an inference engine only in its adapter folder (onnxruntime-web under web/, onnxruntime-node under node/)", () => {
    const offenders: string[] = [];
    for (const file of SourceFiles(srcDir)) {
      const rel = relative(srcDir, file).split("\\").join("/");
      for (const match of readFileSync(file, "utf8").matchAll(ImportPattern)) {
        const engine = /^onnxruntime-(web|node)(\/.*)?$/.exec(match[1]);
        if (engine && !rel.startsWith(`${engine[1]}/`)) offenders.push(`${rel} imports "${match[1]}"`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the pattern catches the forms it must catch", () => {
    const found = (code: string) => [...code.matchAll(ImportPattern)].map((m) => m[1]);
    expect(found('import { x } from "node:fs";\nexport * from \'onnxruntime-node\';\nconst m = await import("node:path");\nimport "node:os";')).toEqual([
      "node:fs",
      "onnxruntime-node",
      "node:path",
      "node:os",
    ]);
  });
});
