// Configuration variables (the `vars` context): plain text at the organization, repository and
// environment levels, with GitHub's names, a 48 KB cap per value and GitHub's counts per level.
// Unlike secrets, their values are shown to whoever may read them.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { LIMITS, checkName, checkValue } from "./names.js";
import { atScope, describeScope, inTransaction, levelOf, type Db, type Level, type Scope } from "./scope.js";

export interface VariableInfo {
  name: string;
  value: string;
  level: Level;
  environment: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

interface Row {
  repository_id: string | null;
  environment: string | null;
  name: string;
  value: string;
  created_by: string;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "repository_id, environment, name, value, created_by, updated_by, created_at, updated_at";

function info(r: Row): VariableInfo {
  return {
    name: r.name,
    value: r.value,
    level: r.environment !== null ? "environment" : r.repository_id !== null ? "repository" : "organization",
    environment: r.environment,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    updatedAt: r.updated_at.toISOString(),
    updatedBy: r.updated_by,
  };
}

/** Creates or replaces a variable. */
export async function setVariable(
  db: Db,
  scope: Scope,
  input: { name: string; value: string; actor: string },
): Promise<{ variable: VariableInfo; created: boolean }> {
  const name = checkName("variable", input.name);
  checkValue("variable", name, input.value);
  return inTransaction(db, async (c) => {
    const where = atScope(scope, 1);
    const updated = await c.query<Row>(
      `UPDATE variables SET value = $5, updated_by = $6, updated_at = now()
        WHERE ${where.sql} AND name = $4 RETURNING ${COLUMNS}`,
      [...where.params, name, input.value, input.actor],
    );
    if (updated.rows[0]) return { variable: info(updated.rows[0]), created: false };
    const { rows } = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM variables WHERE ${where.sql}`,
      where.params,
    );
    const limit = LIMITS.variable[levelOf(scope)];
    if ((rows[0]?.n ?? 0) >= limit)
      throw new AirlockError(
        ErrorCode.SECRET_INVALID,
        `${describeScope(scope)} holds ${limit} variables already (the limit)`,
      );
    const inserted = await c
      .query<Row>(
        `INSERT INTO variables (organization_id, repository_id, environment, name, value, created_by, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ${COLUMNS}`,
        [...where.params, name, input.value, input.actor],
      )
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === "23505")
          throw new AirlockError(
            ErrorCode.CONFLICT,
            `variable ${name} was created at the same time: try again`,
          );
        throw err;
      });
    return { variable: info(inserted.rows[0]!), created: true };
  });
}

export async function listVariables(db: Db, scope: Scope): Promise<VariableInfo[]> {
  const where = atScope(scope, 1);
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM variables WHERE ${where.sql} ORDER BY name`,
    where.params,
  );
  return rows.map(info);
}

export async function getVariable(db: Db, scope: Scope, rawName: string): Promise<VariableInfo> {
  const name = checkName("variable", rawName);
  const where = atScope(scope, 1);
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM variables WHERE ${where.sql} AND name = $4`, [
    ...where.params,
    name,
  ]);
  if (!rows[0])
    throw new AirlockError(ErrorCode.NOT_FOUND, `variable ${name} not found in ${describeScope(scope)}`);
  return info(rows[0]);
}

export async function deleteVariable(db: Db, scope: Scope, rawName: string): Promise<VariableInfo> {
  const name = checkName("variable", rawName);
  const where = atScope(scope, 1);
  const { rows } = await db.query<Row>(
    `DELETE FROM variables WHERE ${where.sql} AND name = $4 RETURNING ${COLUMNS}`,
    [...where.params, name],
  );
  if (!rows[0])
    throw new AirlockError(ErrorCode.NOT_FOUND, `variable ${name} not found in ${describeScope(scope)}`);
  return info(rows[0]);
}
