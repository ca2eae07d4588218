// `airlock image build|list|remove|import`: the job images in this node's own store (src/images),
// which the agent offers to the orchestrator and `airlock run` runs jobs on. (Not to be confused
// with `airlock images`, the orchestrator's catalog that places jobs by label.)
import { resolve } from "node:path";
import type { Command } from "commander";
import { loadOptions } from "../config/index.js";
import {
  buildImage,
  checkBuildInputs,
  checkImageName,
  DEFAULT_IMAGE,
  DEFAULT_PACKAGES,
  DEFAULT_SUITE,
  DEFAULT_VARIANT,
  ImageStore,
  splitPackages,
  type Variant,
} from "../images/index.js";
import { table, time } from "./commands/table.js";

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface BuildOptions {
  packages: string[];
  suite?: string;
  variant?: string;
  mirror?: string;
  quiet?: boolean;
  json?: boolean;
  ifMissing?: boolean;
}

export function registerImageCommands(program: Command, setExitCode: (code: number) => void): void {
  const image = program
    .command("image")
    .description("job images in this node's store (read-only root filesystems built from Debian packages)");

  image
    .command("build")
    .description(`build an image with mmdebstrap (${DEFAULT_IMAGE} without options: the default package set)`)
    .argument("<name>", "image name, e.g. debian-12")
    .option("--packages <a,b,...>", "packages to install (repeatable, comma-separated)", collect, [])
    .option("--suite <suite>", `Debian suite (default ${DEFAULT_SUITE})`)
    .option("--variant <variant>", `mmdebstrap variant (default ${DEFAULT_VARIANT})`)
    .option("--mirror <url>", "Debian mirror (default deb.debian.org)")
    .option("-q, --quiet", "do not print mmdebstrap's progress")
    .option("--if-missing", "do nothing when an image of that name is already in the store")
    .option("--json", "print the image as JSON")
    .action(async (name: string, o: BuildOptions) => setExitCode(await buildCommand(name, o)));

  image
    .command("list")
    .description("list the images in this node's store")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      const store = new ImageStore(loadOptions().imagesDir);
      const all = store.list();
      if (o.json) process.stdout.write(JSON.stringify(all, null, 2) + "\n");
      else if (all.length === 0)
        process.stdout.write(
          `No images in ${store.dir}; build one with: airlock image build ${DEFAULT_IMAGE}\n`,
        );
      else
        process.stdout.write(
          table(
            ["NAME", "DIGEST", "SIZE", "CREATED", "PACKAGES"],
            all.map((i) => [
              i.name,
              i.digest.slice(0, 19),
              mib(i.sizeBytes),
              time(i.createdAt),
              i.importedFrom ? `imported from ${i.importedFrom}` : (i.packages ?? []).join(","),
            ]),
          ),
        );
    });

  image
    .command("remove")
    .description("remove an image (refused while a machine uses it)")
    .argument("<name>")
    .action(async (name: string) => {
      const store = new ImageStore(loadOptions().imagesDir);
      const r = await store.remove(name);
      process.stdout.write(
        r.freedBytes > 0
          ? `Image ${name} removed (${r.digest.slice(0, 19)}, ${mib(r.freedBytes)} freed).\n`
          : `Image ${name} removed (${r.digest.slice(0, 19)} stays: another name points at it).\n`,
      );
    });

  image
    .command("import")
    .description("add an image from a root filesystem tarball (e.g. one mmdebstrap made)")
    .argument("<name>")
    .argument("<tarball>")
    .action(async (name: string, tarball: string) => {
      checkImageName(name);
      const store = new ImageStore(loadOptions().imagesDir);
      const file = resolve(tarball);
      const r = await store.add(name, file, { importedFrom: file });
      process.stdout.write(`Image ${name} imported: ${r.digest} (${mib(r.sizeBytes)}).\n`);
    });
}

async function buildCommand(name: string, o: BuildOptions): Promise<number> {
  checkImageName(name);
  const given = splitPackages(o.packages);
  // Without --packages, the default image gets the default set; any other image only its variant's.
  const packages = given.length > 0 ? given : name === DEFAULT_IMAGE ? [...DEFAULT_PACKAGES] : [];
  const suite = o.suite ?? DEFAULT_SUITE;
  const variant = o.variant ?? DEFAULT_VARIANT;
  checkBuildInputs({ packages, suite, variant });
  const store = new ImageStore(loadOptions().imagesDir);
  const err = process.stderr;
  const have = o.ifMissing ? store.resolve(name) : undefined;
  if (have) {
    if (!o.quiet)
      err.write(`airlock: image ${name} is already in ${store.dir} (${have.digest.slice(0, 19)})\n`);
    if (o.json) process.stdout.write(JSON.stringify(have, null, 2) + "\n");
    return 0;
  }
  if (!o.quiet)
    err.write(
      `airlock: building ${name} (${suite}, ${variant}, ${packages.length} packages) in ${store.dir}\n`,
    );
  const r = await buildImage(store, {
    name,
    packages,
    suite,
    variant: variant as Variant,
    ...(o.mirror !== undefined ? { mirror: o.mirror } : {}),
    ...(o.quiet ? {} : { onLine: (l: string) => err.write(`  ${l}\n`) }),
  });
  if (o.json) process.stdout.write(JSON.stringify({ ...r.image, totalMs: r.totalMs }, null, 2) + "\n");
  else
    process.stdout.write(
      `Image ${name} built: ${r.image.digest} (${mib(r.image.sizeBytes)}) in ${(r.totalMs / 1000).toFixed(1)} s ` +
        `(mmdebstrap ${(r.mmdebstrapMs / 1000).toFixed(1)} s).\n`,
    );
  return 0;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
