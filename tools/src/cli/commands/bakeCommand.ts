import { Command } from "commander";

/** `npc-faces bake`: not implemented yet (placeholder so the CLI builds while the command is written). */
export function BakeCommand(): Command {
  return new Command("bake").description("(not implemented yet)").action(() => {
    throw new Error("npc-faces bake is not implemented yet");
  });
}
