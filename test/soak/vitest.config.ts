// `npm run soak`: the bounded soak runs (test/soak/*.soak.ts), not part of `npm test`. Same aliases as the suite
// (sources, not builds; the CLI and worker threads use the builds that `npm run soak` makes first); one file at a
// time so each measures its own memory; gc exposed so heap figures are after a collection. (Not mergeConfig: it
// would append to the suite's `include` instead of replacing it.)
import { defineConfig } from "vitest/config";
import base from "../../vitest.config.js";

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/soak/**/*.soak.ts"],
    fileParallelism: false,
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    execArgv: ["--expose-gc"],
  },
});
