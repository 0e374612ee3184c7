export {};
// Data sets (issue 4): build, read (dataset.json + packed tensor or PNGs), contact sheets, benchmark.
export { BuildDatasetAsync, ValidateBuildOptions, ChooseHoldout, DatasetOptionsError, type BuildDatasetOptions, type BuildDatasetResult } from "./dataset/buildDataset.js";
export { ReadDatasetAsync, DatasetManifestSchema, DatasetContentHash, DatasetManifestFile, type DatasetManifest, type DatasetImageEntry } from "./dataset/datasetManifest.js";
export { OpenDatasetAsync, PackedFileName, type OpenedDataset } from "./dataset/packedDataset.js";
export { WriteContactSheetAsync, RenderContactSheet, ContactSheetSize, type ContactSheetOptions } from "./dataset/contactSheet.js";
export { DicebearStyleNames, ParseSourceText, type DatasetSource, type DatasetSourceInfo, type LabelSchema, type RenderedImage, type SourceSpec } from "./dataset/datasetSources.js";
export { CreateDatasetSourceAsync } from "./dataset/createDatasetSource.js";
export { ScanImageFolderAsync } from "./dataset/folderSource.js";
export { EncodePng, DecodePngRgb } from "./dataset/pngCodec.js";
export { RunDatasetBenchAsync } from "./dataset/datasetBench.js";
export * from "./toolInfo.js";
export * from "./bake/seedList.js";
export * from "./bake/pngProvenance.js";
export * from "./bake/atomicWrite.js";
export * from "./bake/bakeProvenance.js";
export * from "./bake/bakeSeeds.js";
// Manifest baking (issue 8): worker pool, cache, shards, atlases, esbuild plugin.
export * from "./bake/shard.js";
export * from "./bake/bakedFacesManifest.js";
export * from "./bake/bakeCache.js";
export * from "./canonicalJson.js";
export { BakeWorkerPool, DefaultWorkerCount, type BakeWorkerPoolOptions, type BakeFaceJob, type BakedFaceResult } from "./bake/bakeWorkerPool.js";
export * from "./bake/atlasPacker.js";
export * from "./bake/bakeAtlas.js";
export * from "./bake/manifestBake.js";
export * from "./bake/bakeMerge.js";
export * from "./bake/esbuildNpcFacesPlugin.js";
// Seed editor (issue 7): server, page build, and the page's API and test-hook types.
export * from "./editor/editorServer.js";
export * from "./editor/editorBuild.js";
export * from "./editor/page/editorApi.js";
// Serving and bundling face pages (shared by the seed editor and the samples): static files with the
// cross-origin isolation headers, listen/close helpers, the page + face worker bundle, the samples' model.
export * from "./web/staticFiles.js";
export * from "./web/httpServer.js";
export * from "./web/loopbackGuard.js";
export * from "./web/requestBody.js";
export * from "./web/bundleFacePage.js";
export * from "./web/sampleModel.js";
// Evaluation: the memorisation check (nearest training images) and the label-control direction check.
export * from "./evaluation/pixelFeatures.js";
export * from "./evaluation/datasetFeatures.js";
export * from "./evaluation/nearestNeighbours.js";
export * from "./evaluation/ridgeRegression.js";
export * from "./evaluation/labelProbe.js";
export * from "./evaluation/cheekLightness.js";
export * from "./evaluation/directMeasures.js";
export * from "./evaluation/pairSheet.js";
export * from "./evaluation/memorisationCheck.js";
export * from "./evaluation/controlDirectionCheck.js";
// Import of PyTorch StyleGAN2 generators (issue 20): NVIDIA network pickles and rosinality checkpoints.
export { ImportCheckpointAsync, DetectImportFormat, KimgFromFileName, type ImportOptions, type ImportResult } from "./import/importCheckpoint.js";
export type { ImportedGenerator, ImportFormat } from "./import/importedGenerator.js";
