// `airlock images list|add` and `airlock flavours list|add`: machine templates and sizes the
// scheduler matches against job labels (most matching labels wins; required labels must all
// be on the job).
import type { Command } from "commander";
import {
  apiOptions,
  collect,
  connect,
  listCommand,
  failOnProblems,
  intOption,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { list, table } from "./table.js";

interface LabelOptions extends CommonOptions {
  label: string[];
  requiredLabel: string[];
}

interface ImageOptions extends LabelOptions {
  provisioner?: string;
}

interface FlavourOptions extends LabelOptions {
  cpus: string;
  memory: string;
  disk: string;
}

const labelOptions = (cmd: Command): Command =>
  cmd
    .option("--label <label>", "label jobs can ask for (repeatable)", collect, [])
    .option("--required-label <label>", "chosen only for jobs with this label (repeatable)", collect, []);

export function registerImages(program: Command, io: CliIo): void {
  const images = program.command("images").description("machine images (templates of single-use machines)");

  listCommand(images, io, {
    what: "images",
    fetch: (c) => c.listImages(),
    render: (all) =>
      table(
        ["ID", "NAME", "PROVISIONER", "LABELS", "REQUIRED"],
        all.map((i) => [i.id, i.name, i.provisioner, list(i.labels), list(i.requiredLabels)]),
      ),
  });

  apiOptions(
    labelOptions(images.command("add").description("add an image").argument("<name>")).option(
      "--provisioner <name>",
      "provisioner that builds machines from it (default sandbox)",
    ),
  ).action(async (name: string, opts: ImageOptions) => {
    const image = await (
      await connect(opts, io)
    ).addImage({
      name,
      labels: opts.label,
      requiredLabels: opts.requiredLabel,
      ...(opts.provisioner ? { provisioner: opts.provisioner } : {}),
    });
    if (opts.json) printJson(io, image);
    else io.stdout.write(`Image ${image.name} added (id ${image.id}).\n`);
  });
}

export function registerFlavours(program: Command, io: CliIo): void {
  const flavours = program.command("flavours").description("machine sizes (CPU, memory, disk)");

  listCommand(flavours, io, {
    what: "flavours",
    fetch: (c) => c.listFlavours(),
    render: (all) =>
      table(
        ["ID", "NAME", "CPUS", "MEMORY", "DISK", "LABELS", "REQUIRED"],
        all.map((f) => [
          f.id,
          f.name,
          f.cpus,
          `${f.memoryMb} MiB`,
          `${f.diskMb} MiB`,
          list(f.labels),
          list(f.requiredLabels),
        ]),
      ),
  });

  apiOptions(
    labelOptions(
      flavours
        .command("add")
        .description("add a flavour")
        .argument("<name>")
        .requiredOption("--cpus <n>", "CPUs")
        .requiredOption("--memory <MiB>", "memory in MiB")
        .requiredOption("--disk <MiB>", "disk in MiB"),
    ),
  ).action(async (name: string, opts: FlavourOptions) => {
    const problems: string[] = [];
    const cpus = intOption(opts.cpus, "--cpus", 1, problems);
    const memoryMb = intOption(opts.memory, "--memory", 1, problems);
    const diskMb = intOption(opts.disk, "--disk", 1, problems);
    failOnProblems(problems);
    const flavour = await (
      await connect(opts, io)
    ).addFlavour({
      name,
      cpus: cpus as number,
      memoryMb: memoryMb as number,
      diskMb: diskMb as number,
      labels: opts.label,
      requiredLabels: opts.requiredLabel,
    });
    if (opts.json) printJson(io, flavour);
    else io.stdout.write(`Flavour ${flavour.name} added (id ${flavour.id}).\n`);
  });
}
