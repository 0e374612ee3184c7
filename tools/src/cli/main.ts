/**
 * The `npc-faces` command line. Each sub-command lives in its own file under ./commands and is
 * documented by its `--help`.
 */
import { Command } from "commander";
import { ExportCommand } from "./commands/exportCommand.js";
import { InfoCommand } from "./commands/infoCommand.js";
import { BakeCommand } from "./commands/bakeCommand.js";
import { DatasetCommand } from "./commands/datasetCommand.js";

const program = new Command("npc-faces")
  .description("Procedural NPC faces: export, inspect, bake and build data sets for StyleGAN face models.")
  .showHelpAfterError();
for (const command of [ExportCommand(), InfoCommand(), BakeCommand(), DatasetCommand()]) program.addCommand(command);
await program.parseAsync(process.argv);
