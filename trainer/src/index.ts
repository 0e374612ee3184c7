export * from "./networks/architecture.js";
