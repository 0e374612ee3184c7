/**
 * The check of a request's fixed labels against a model that the commands share (`bake --label`, `sheet --label`),
 * with a message that lists what the model has.
 */
import type { ModelMetadata } from "@npc-faces/runtime";

/** What is wrong with the first bad entry of `labels` (an attribute the model lacks, or a value it does not take), or undefined. */
export function LabelValuesProblem(metadata: Pick<ModelMetadata, "name" | "labels">, labels: Readonly<Record<string, string>>): string | undefined {
  for (const [name, value] of Object.entries(labels)) {
    const attribute = metadata.labels.find((l) => l.name === name);
    if (!attribute) {
      const has = metadata.labels.length === 0 ? "has no labels (it is not conditional)" : `has: ${metadata.labels.map((l) => l.name).join(", ")}`;
      return `unknown label "${name}" (model "${metadata.name}" ${has})`;
    }
    if (!attribute.values.includes(value)) return `label "${name}": unknown value "${value}" (known: ${attribute.values.join(", ")})`;
  }
  return undefined;
}
