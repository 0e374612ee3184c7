export * from "./philox.js";
export * from "./normalDistribution.js";
export * from "./seedStreams.js";
