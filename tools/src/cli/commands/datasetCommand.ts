import { Command } from "commander";

/** `npc-faces dataset`: not implemented yet (placeholder so the CLI builds while the command is written). */
export function DatasetCommand(): Command {
  return new Command("dataset").description("(not implemented yet)").action(() => {
    throw new Error("npc-faces dataset is not implemented yet");
  });
}
