// Shared helpers for the workflow tests: fixture paths and the `line:col` problem format.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Problem } from "../../src/errors/index.js";

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/workflows");

export function fixtureNames(dir: string, ext: string): string[] {
  return readdirSync(path.join(FIXTURES, dir))
    .filter((f) => f.endsWith(ext))
    .map((f) => f.slice(0, -ext.length))
    .sort();
}

export function read(...parts: string[]): string {
  return readFileSync(path.join(FIXTURES, ...parts), "utf8");
}

export function expectedPositions(...parts: string[]): string[] {
  return read(...parts)
    .split("\n")
    .filter((l) => l.trim() !== "");
}

export function positions(problems: Problem[]): string[] {
  return problems.map((p) => `${p.line}:${p.col}`);
}
