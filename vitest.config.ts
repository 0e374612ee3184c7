import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests import the packages' TypeScript sources, so a test run never sees stale builds;
// CLI tests spawn the built binary (npm test builds first).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@npc-faces\/runtime\/node$/, replacement: src("./runtime/src/node/index.ts") },
      { find: /^@npc-faces\/runtime\/web$/, replacement: src("./runtime/src/web/index.ts") },
      { find: /^@npc-faces\/runtime$/, replacement: src("./runtime/src/index.ts") },
      { find: /^@npc-faces\/trainer$/, replacement: src("./trainer/src/index.ts") },
      { find: /^@npc-faces\/tools$/, replacement: src("./tools/src/index.ts") },
      { find: /^@npc-faces\/babylon$/, replacement: src("./plugin/src/index.ts") },
      { find: /^@npc-faces\/babylon\/pure$/, replacement: src("./plugin/src/pure.ts") },
      { find: /^@npc-faces\/babylon\/defaultModel$/, replacement: src("./plugin/src/defaultModel.ts") },
      { find: /^@npc-faces\/babylon\/gltf$/, replacement: src("./plugin/src/gltf.ts") },
      { find: /^@npc-faces\/babylon\/gltfExport$/, replacement: src("./plugin/src/gltfExport.ts") },
    ],
  },
  test: {
    include: ["{runtime,trainer,tools,plugin}/test/**/*.test.ts", "test/integration/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
