// @ts-check
/**
 * `node tools/gpu-bench/pack.mjs`: packs the `training-gpu` bench for an NVIDIA machine with neither Node, npm nor
 * network (tools/gpu-bench/README.md). Builds (tsc -b), then writes into .gpu-bench/, which git ignores (the device
 * tool carries it by name), at the root of the main worktree (the checkout the device tool sends, also when this runs
 * in a linked worktree): run.sh, node/node.tar.xz (this Node, stripped) and bench/bench.tar.xz (the files the bench
 * entry loads, onnxruntime-node's linux-x64 binaries, the Vulkan loader's .debs). Two archives, so that each can
 * travel in its own call when the checkout leaves too little room for both.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RuntimeFilesAsync } from "./runtimeFiles.mjs";

const Root = fileURLToPath(new URL("../..", import.meta.url));
const Entry = "test/dist/bench/trainingGpuMain.js";
/** The device tool's limit on what one call sends: the checkout's files plus the carried paths. */
const DeviceTreeLimit = 64 * 2 ** 20;
/** Vulkan's loader, and libglvnd's libGLdispatch that NVIDIA's Vulkan driver (libGLX_nvidia) links against. */
const Debs = ["libvulkan1", "libglvnd0"];
/** The BCJ filter for x86 code shrinks both binaries by a tenth beyond plain LZMA2. */
const Xz = "xz -T1 --x86 --lzma2=preset=9e";

/** @param {string} file @param {string[]} args @param {string} [cwd] */
function Run(file, args, cwd = Root) {
  return execFileSync(file, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

const MiB = (/** @type {number} */ bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Debian's amd64 packages whatever this machine's architecture (the device README's recipe), into `dir`. */
function DownloadDebs(/** @type {string} */ dir) {
  const lists = join(tmpdir(), "npc-faces-apt-amd64");
  mkdirSync(join(lists, "partial"), { recursive: true });
  const options = ["-oAPT::Architecture=amd64", "-oAPT::Architectures=amd64", `-oDir::State::Lists=${lists}`, "-oAPT::Sandbox::User=root", "-q"];
  Run("apt-get", [...options, "update"]);
  Run("apt-get", [...options, "download", ...Debs], dir);
}

/** The main worktree: the checkout a device call sends. */
function MainWorktree() {
  return Run("git", ["worktree", "list", "--porcelain"]).split("\n")[0].replace(/^worktree /, "");
}

/** Bytes a device call sends besides what it carries: the checkout's tracked and unignored files. */
function CheckoutBytes(/** @type {string} */ checkout) {
  let bytes = 0;
  for (const file of Run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], checkout).split("\0")) {
    if (file) bytes += statSync(join(checkout, file), { throwIfNoEntry: false })?.size ?? 0;
  }
  return bytes;
}

Run(process.execPath, [join(Root, "node_modules/typescript/bin/tsc"), "-b"]);
const checkout = MainWorktree();
const outDir = join(checkout, ".gpu-bench");
// Unignored, the archives would travel with every device call and could be committed.
if (spawnSync("git", ["check-ignore", "-q", "--no-index", ".gpu-bench/"], { cwd: checkout }).status !== 0) {
  throw new Error('.gpu-bench/ is not ignored: echo /.gpu-bench/ >> "$(git rev-parse --git-common-dir)/info/exclude"');
}
const stage = mkdtempSync(join(tmpdir(), "npc-faces-gpu-bench-"));
try {
  mkdirSync(join(stage, "node/bin"), { recursive: true });
  Run("strip", ["-o", join(stage, "node/bin/node"), process.execPath]);

  const { files, links } = await RuntimeFilesAsync(Root, Entry);
  for (const file of files) {
    mkdirSync(dirname(join(stage, "bench/app", file)), { recursive: true });
    copyFileSync(join(Root, file), join(stage, "bench/app", file));
  }
  for (const link of links) {
    mkdirSync(dirname(join(stage, "bench/app", link.path)), { recursive: true });
    symlinkSync(link.target, join(stage, "bench/app", link.path));
  }
  mkdirSync(join(stage, "bench/debs"));
  DownloadDebs(join(stage, "bench/debs"));

  rmSync(outDir, { recursive: true, force: true });
  let carried = 0;
  for (const part of ["node", "bench"]) {
    mkdirSync(join(outDir, part), { recursive: true });
    const archive = join(outDir, part, `${part}.tar.xz`);
    Run("tar", ["-C", stage, "--owner=0", "--group=0", "--sort=name", "-I", Xz, "-cf", archive, part]);
    carried += statSync(archive).size;
    console.log(`${archive}: ${MiB(statSync(archive).size)}`);
  }
  copyFileSync(join(Root, "tools/gpu-bench/run.sh"), join(outDir, "run.sh"));
  console.log(`bench: ${files.length} files, ${links.length} links; Vulkan loader: ${Debs.join(", ")}`);

  const sent = CheckoutBytes(checkout);
  const total = sent + carried;
  console.log(`a device call sends ${checkout} (${MiB(sent)}) + .gpu-bench (${MiB(carried)}) = ${MiB(total)} of ${MiB(DeviceTreeLimit)}:`);
  console.log(
    total < DeviceTreeLimit
      ? '  one call: carry [".gpu-bench"]'
      : '  two calls on the same warm machine: carry [".gpu-bench/run.sh", ".gpu-bench/node"], then [".gpu-bench/run.sh", ".gpu-bench/bench"]',
  );
} finally {
  rmSync(stage, { recursive: true, force: true });
}
