/**
 * A fresh npm project that installs packed workspace tarballs and registry packages from the npm cache alone
 * (`npm ci --offline`), for the install test.
 *
 * Why a lockfile and not `npm install --offline <tarballs>`: resolving a version range (the tarballs' dependencies)
 * makes npm read the registry's *full* package documents, which `npm ci` — the only install a CI machine ran — never
 * caches (it fetches abbreviated ones, or none for an entry with a URL), so that install fails there with ENOTCACHED.
 * The lockfile written here pins what the repository's package-lock.json pins, in its layout, with each registry
 * tarball's URL (the key npm caches it under), so npm fetches nothing but cached tarballs.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

/** An entry of package-lock.json's `packages` (the fields used here). */
interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly optional?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
  readonly [field: string]: unknown;
}

/** The repository's package-lock.json. */
export interface RepoLock {
  readonly packages: Readonly<Record<string, LockEntry>>;
}

/** A workspace packed with `npm pack`. */
export interface PackedWorkspace {
  /** The tarball's path relative to the project folder (`../packs/x.tgz`). */
  readonly tarball: string;
  /** npm pack's `integrity` of the tarball. */
  readonly integrity: string;
}

/** What {@link OfflineProject} writes: the two files of the project. */
export interface OfflineProjectFiles {
  readonly packageJson: { readonly name: string; readonly version: string; readonly private: true; readonly type: "module"; readonly dependencies: Record<string, string> };
  readonly lockfile: { readonly name: string; readonly lockfileVersion: 3; readonly requires: true; readonly packages: Record<string, LockEntry> };
}

/**
 * The package.json and package-lock.json of a project depending on `packed` (by package name) and on the registry
 * packages `registry` (at the repository lock's versions), with everything they need, laid out as in the repository's
 * node_modules (a subset of a valid tree is a valid tree).
 * @param registryUrl the npm registry (`npm config get registry`), where the tarball URLs point
 * @throws when a required dependency is not in the repository's lock, or a needed workspace was not packed
 */
export function OfflineProject(name: string, lock: RepoLock, registryUrl: string, packed: ReadonlyMap<string, PackedWorkspace>, registry: readonly string[]): OfflineProjectFiles {
  const entries = lock.packages;
  // Workspace folder (`tools`) -> package name, for the lock's links (`node_modules/@npc-faces/tools` -> `tools`).
  const workspaceNames = new Map<string, string>();
  for (const [path, entry] of Object.entries(entries)) if (entry.link && entry.resolved) workspaceNames.set(entry.resolved, path.slice("node_modules/".length));
  const registryBase = registryUrl.endsWith("/") ? registryUrl : `${registryUrl}/`;

  const packages: Record<string, LockEntry> = {};
  const pending: string[] = [];
  /** Adds the package at `repoPath` of the repository's lock (a link: its workspace) to the project. */
  const place = (repoPath: string): void => {
    const entry = entries[repoPath];
    if (entry.link) return place(entry.resolved!);
    const projectPath = ProjectPath(repoPath, workspaceNames);
    if (projectPath in packages) return;
    const workspace = workspaceNames.get(repoPath);
    if (workspace !== undefined) {
      const pack = packed.get(workspace);
      if (!pack) throw new Error(`the project needs ${workspace}, which was not packed`);
      const { devDependencies: _dev, name: _name, ...published } = entry;
      packages[projectPath] = { ...published, resolved: `file:${pack.tarball}`, integrity: pack.integrity };
    } else {
      const { dev: _dev, devOptional: _devOptional, peer: _peer, optional, ...rest } = entry;
      const packageName = repoPath.slice(repoPath.lastIndexOf("node_modules/") + "node_modules/".length);
      const file = `${packageName.slice(packageName.indexOf("/") + 1)}-${entry.version}.tgz`;
      // `optional` is kept: such packages (other platforms' binaries) are reached through optional edges only.
      packages[projectPath] = { ...rest, resolved: `${registryBase}${packageName}/-/${file}`, ...(optional ? { optional } : {}) };
    }
    pending.push(repoPath);
  };

  const dependencies: Record<string, string> = {};
  for (const [packageName, pack] of packed) {
    dependencies[packageName] = `file:${pack.tarball}`;
    place(`node_modules/${packageName}`);
  }
  for (const packageName of registry) {
    const entry = entries[`node_modules/${packageName}`];
    if (!entry?.version) throw new Error(`${packageName} is not in the repository's package-lock.json`);
    dependencies[packageName] = entry.version;
    place(`node_modules/${packageName}`);
  }
  // What npm installs: dependencies, optional dependencies (where their platform matches) and non-optional peers.
  for (let repoPath = pending.shift(); repoPath !== undefined; repoPath = pending.shift()) {
    const entry = entries[repoPath];
    const edges: [string, boolean][] = [
      ...Object.keys(entry.dependencies ?? {}).map((d): [string, boolean] => [d, false]),
      ...Object.keys(entry.optionalDependencies ?? {}).map((d): [string, boolean] => [d, true]),
      ...Object.keys(entry.peerDependencies ?? {})
        .filter((d) => !entry.peerDependenciesMeta?.[d]?.optional)
        .map((d): [string, boolean] => [d, false]),
    ];
    for (const [dependency, optional] of edges) {
      const target = Ancestors(repoPath)
        .map((a) => `${a === "" ? "" : `${a}/`}node_modules/${dependency}`)
        .find((p) => p in entries);
      if (target !== undefined) place(target);
      else if (!optional) throw new Error(`${repoPath || "the root"} needs ${dependency}, which is not in the repository's package-lock.json`);
    }
  }
  const version = "1.0.0";
  return {
    packageJson: { name, version, private: true, type: "module", dependencies },
    lockfile: { name, lockfileVersion: 3, requires: true, packages: { "": { name, version, dependencies }, ...packages } },
  };
}

/** Writes the project's package.json and package-lock.json into `folder` and runs `npm ci --offline` there. */
export async function InstallOfflineProjectAsync(folder: string, files: OfflineProjectFiles): Promise<void> {
  await writeFile(join(folder, "package.json"), `${JSON.stringify(files.packageJson, null, 2)}\n`);
  await writeFile(join(folder, "package-lock.json"), `${JSON.stringify(files.lockfile, null, 2)}\n`);
  try {
    await promisify(execFile)("npm", ["ci", "--offline", "--no-audit", "--no-fund"], { cwd: folder, maxBuffer: 16 << 20 });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "");
    if (!stderr.includes("ENOTCACHED")) throw error;
    throw new Error(`npm ci --offline in ${folder}: a package is not in npm's cache (run \`npm ci\` in the repository first): ${stderr.trim()}`, { cause: error });
  }
}

/** Reads the repository's package-lock.json and the configured registry. */
export async function ReadRepoLockAsync(root: string): Promise<{ lock: RepoLock; registryUrl: string }> {
  const [lock, registry] = await Promise.all([
    readFile(join(root, "package-lock.json"), "utf8").then((text) => JSON.parse(text) as RepoLock),
    promisify(execFile)("npm", ["config", "get", "registry"], { cwd: root }),
  ]);
  return { lock, registryUrl: registry.stdout.trim() };
}

/** A lock path, then the paths of the packages enclosing it, then the root (""), as Node looks for node_modules. */
function Ancestors(path: string): string[] {
  const result = [path];
  for (let p = path; p !== ""; ) {
    const i = p.lastIndexOf("/node_modules/");
    p = i < 0 ? "" : p.slice(0, i);
    result.push(p);
  }
  return result;
}

/** Where a package of the repository's lock goes in the project: a workspace folder becomes `node_modules/<name>`. */
function ProjectPath(repoPath: string, workspaceNames: ReadonlyMap<string, string>): string {
  const folder = repoPath.split("/")[0];
  const workspace = workspaceNames.get(folder);
  return workspace === undefined ? repoPath : `node_modules/${workspace}${repoPath.slice(folder.length)}`;
}
