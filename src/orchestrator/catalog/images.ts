// Images (machine templates) and flavours (CPU, memory, disk): the catalog the scheduler places
// jobs against. Both are matched by labels; required labels reserve them for jobs that ask. An
// image here is only a name: each node builds its images itself (`airlock image build`) and reports
// their names, so a job goes only to nodes that hold its image.
import { iso, num, uniquely, type Db } from "./db.js";

export interface Image {
  id: number;
  name: string;
  labels: string[];
  requiredLabels: string[];
  provisioner: string;
  createdAt: string;
}

export interface NewImage {
  name: string;
  labels?: string[];
  requiredLabels?: string[];
  provisioner?: string;
}

export interface Flavour {
  id: number;
  name: string;
  cpus: number;
  memoryMb: number;
  diskMb: number;
  labels: string[];
  requiredLabels: string[];
  createdAt: string;
}

export interface NewFlavour {
  name: string;
  cpus: number;
  memoryMb: number;
  diskMb: number;
  labels?: string[];
  requiredLabels?: string[];
}

function imageFromRow(r: Record<string, unknown>): Image {
  return {
    id: num(r.id),
    name: String(r.name),
    labels: r.labels as string[],
    requiredLabels: r.required_labels as string[],
    provisioner: String(r.provisioner),
    createdAt: iso(r.created_at),
  };
}

function flavourFromRow(r: Record<string, unknown>): Flavour {
  return {
    id: num(r.id),
    name: String(r.name),
    cpus: num(r.cpus),
    memoryMb: num(r.memory_mb),
    diskMb: num(r.disk_mb),
    labels: r.labels as string[],
    requiredLabels: r.required_labels as string[],
    createdAt: iso(r.created_at),
  };
}

export async function listImages(db: Db): Promise<Image[]> {
  const { rows } = await db.query("SELECT * FROM images ORDER BY id");
  return rows.map(imageFromRow);
}

export async function createImage(db: Db, input: NewImage): Promise<Image> {
  const { rows } = await uniquely(`image ${input.name}`, () =>
    db.query(
      `INSERT INTO images (name, labels, required_labels, provisioner)
       VALUES ($1, $2, $3, $4) RETURNING *`,
      [input.name, input.labels ?? [], input.requiredLabels ?? [], input.provisioner ?? "sandbox"],
    ),
  );
  return imageFromRow(rows[0] as Record<string, unknown>);
}

export async function listFlavours(db: Db): Promise<Flavour[]> {
  const { rows } = await db.query("SELECT * FROM flavours ORDER BY id");
  return rows.map(flavourFromRow);
}

export async function createFlavour(db: Db, input: NewFlavour): Promise<Flavour> {
  const { rows } = await uniquely(`flavour ${input.name}`, () =>
    db.query(
      `INSERT INTO flavours (name, cpus, memory_mb, disk_mb, labels, required_labels)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [input.name, input.cpus, input.memoryMb, input.diskMb, input.labels ?? [], input.requiredLabels ?? []],
    ),
  );
  return flavourFromRow(rows[0] as Record<string, unknown>);
}
