/** Creates a {@link DatasetSource} from its serialisable spec (used by the builder and by each worker). */
import { WithBackgroundLabel, type DatasetSource, type SourceSpec } from "./datasetSources.js";

/** Optional licence text for folder sources (generators carry their own). */
export interface FolderLicenceOverride {
  name?: string;
  credits?: string;
}

/** Creates the source named by `spec`; only the packages that source needs are loaded. */
export async function CreateDatasetSourceAsync(spec: SourceSpec, folderLicence?: FolderLicenceOverride): Promise<DatasetSource> {
  let source: DatasetSource;
  switch (spec.kind) {
    case "facesjs":
      source = (await import("./facesjsSource.js")).CreateFacesjsSource(spec.background);
      break;
    case "dicebear":
      source = await (await import("./dicebearSource.js")).CreateDicebearSourceAsync(spec.style, spec.background);
      break;
    case "folder":
      source = await (await import("./folderSource.js")).CreateFolderSourceAsync(spec, folderLicence);
      break;
  }
  source.info.labelSchema = WithBackgroundLabel(source.info.labelSchema, spec.background);
  return source;
}
