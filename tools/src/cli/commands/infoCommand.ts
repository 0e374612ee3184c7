import { Command } from "commander";

/** `npc-faces info`: not implemented yet (placeholder so the CLI builds while the command is written). */
export function InfoCommand(): Command {
  return new Command("info").description("(not implemented yet)").action(() => {
    throw new Error("npc-faces info is not implemented yet");
  });
}
