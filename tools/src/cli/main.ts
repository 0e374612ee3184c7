/**
 * The `npc-faces` command line. Each sub-command lives in its own file under ./commands and is
 * documented by its `--help`. Failures print one line `npc-faces: error: ...` and exit with status 2 (usage)
 * or 1 (anything else); NPC_FACES_DEBUG=1 adds the stack trace.
 */
import { Command } from "commander";
import { ExportCommand } from "./commands/exportCommand.js";
import { ImportCommand } from "./commands/importCommand.js";
import { InfoCommand } from "./commands/infoCommand.js";
import { BakeCommand } from "./commands/bakeCommand.js";
import { DatasetCommand } from "./commands/datasetCommand.js";
import { TrainCommand } from "./commands/trainCommand.js";
import { CheckpointCommand } from "./commands/checkpointCommand.js";
import { EditorCommand } from "./commands/editorCommand.js";
import { MetricsCommand } from "./commands/metricsCommand.js";
import { NearestCommand } from "./commands/nearestCommand.js";
import { ControlCheckCommand } from "./commands/controlCheckCommand.js";
import { SheetCommand } from "./commands/sheetCommand.js";
import { ReportCliError } from "./cliErrors.js";
import { ToolName, ToolVersion } from "../toolInfo.js";

const program = new Command(ToolName)
  .description("Procedural NPC faces: export, inspect, bake and build data sets for StyleGAN face models.")
  .version(ToolVersion, "-V, --version", "print the version")
  .addHelpText("after", "\nExit status: 0 success, 1 failure (bad model file, unwritable output, ...), 2 usage error (bad flags or values).");
for (const command of [ExportCommand(), ImportCommand(), InfoCommand(), BakeCommand(), DatasetCommand(), TrainCommand(), CheckpointCommand(), MetricsCommand(), NearestCommand(), ControlCheckCommand(), SheetCommand(), EditorCommand()]) program.addCommand(command);

// Every command reports errors the same way: commander's own ("error: unknown option ...") get our prefix, are
// folded onto one line (its "(Did you mean bake?)" hint included), and come back here as exceptions instead of
// exiting, so the exit status is decided in one place.
const output = {
  outputError: (text: string, write: (text: string) => void) => write(`${ToolName}: ${text.trim().replace(/\s*\n\s*/g, " ")}\n`),
};
const Configure = (command: Command): void => {
  command.exitOverride().configureOutput(output);
  command.commands.forEach(Configure);
};
Configure(program);

// `npc-faces --help | head`: a reader that goes away early is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = ReportCliError(error);
}
