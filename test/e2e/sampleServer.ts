/**
 * The crowd sample for tests and benchmarks: built with esbuild and served on a free 127.0.0.1 port inside the
 * calling process (so a test never depends on a separately started `npm start`).
 */
import { BuildSampleAsync } from "@npc-faces/samples/build";
import { ResolveSampleModelAsync, type SampleModel } from "@npc-faces/samples/sampleModel";
import { StartSampleServerAsync, type SampleServer } from "@npc-faces/samples/server";

/** A served crowd sample. */
export interface CrowdSample {
  readonly server: SampleServer;
  readonly model: SampleModel;
  /** The page for an engine: `<url>?engine=webgl2|webgpu` plus extra query parameters. */
  pageUrl(engine: "webgl2" | "webgpu", query?: Readonly<Record<string, string>>): string;
}

/** Builds the sample, resolves its model (the bundled default model) and starts the server on a free port. */
export async function StartCrowdSampleAsync(): Promise<CrowdSample> {
  const [model] = await Promise.all([ResolveSampleModelAsync(), BuildSampleAsync()]);
  const server = await StartSampleServerAsync({ port: 0, model });
  return {
    server,
    model,
    pageUrl(engine, query = {}) {
      return `${server.url}?${new URLSearchParams({ engine, ...query }).toString()}`;
    },
  };
}
