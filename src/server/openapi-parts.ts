// Building blocks of the OpenAPI document shared by openapi.ts and the per-area operation lists
// (openapi-sso.ts, openapi-nodes.ts): JSON Schema shorthands and the shape of one documented operation.
import { z } from "zod";

export type Json = Record<string, unknown>;

export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
export const arr = (items: Json): Json => ({ type: "array", items });
export const str = { type: "string" };
export const strOrNull = { type: ["string", "null"] };
export const intOrNull = { type: ["integer", "null"] };
export const int = { type: "integer" };
export const bool = { type: "boolean" };
export const obj = (properties: Json, required = Object.keys(properties)): Json => ({
  type: "object",
  properties,
  required,
});

export interface Operation {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  summary: string;
  security?: "token" | "node" | "registration" | "session" | "runtime" | "none";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  ok: [number, Json | string, string?]; // status, schema or description, content type
  errors?: number[];
}

/** A response's JSON Schema from its zod schema, as a component (without the $schema line). */
export function responseSchema(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "output", unrepresentable: "any" });
  return rest;
}
