export * from "./modelMetadata.js";
