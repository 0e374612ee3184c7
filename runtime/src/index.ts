export * from "./modelMetadata.js";
export * from "./seeds/index.js";
