// Writes schema/face-manifest.schema.json from the compiled zod schema (run after `tsc -b`; a test checks that the
// checked-in file is what this writes).
import { writeFileSync } from "node:fs";
import { FaceManifestJsonSchema, FaceManifestJsonSchemaFile } from "../dist/index.js";

writeFileSync(new URL(`../schema/${FaceManifestJsonSchemaFile}`, import.meta.url), `${JSON.stringify(FaceManifestJsonSchema(), null, 2)}\n`);
