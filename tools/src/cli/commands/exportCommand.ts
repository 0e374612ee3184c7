import { Command } from "commander";

/** `npc-faces export`: not implemented yet (placeholder so the CLI builds while the command is written). */
export function ExportCommand(): Command {
  return new Command("export").description("(not implemented yet)").action(() => {
    throw new Error("npc-faces export is not implemented yet");
  });
}
