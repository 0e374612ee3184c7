/** Which model the samples use: now part of `@npc-faces/tools` (the seed editor uses it too); re-exported here. */
export { RepoRoot, ResolveSampleModelAsync, type ResolveSampleModelOptions, type SampleModel } from "@npc-faces/tools";
