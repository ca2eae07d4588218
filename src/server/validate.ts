// Request validation with zod: every problem of params, query and body is collected into one
// 400 USAGE error whose details list them all ({ path, message }).
import type { FastifyRequest } from "fastify";
import type { z } from "zod";
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface ValidationProblem {
  /** Where: "body.name", "params.id", "query.limit". */
  path: string;
  message: string;
}

interface Parts<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params?: P;
  query?: Q;
  body?: B;
}

export function validate<
  P extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  B extends z.ZodType = z.ZodUndefined,
>(
  request: FastifyRequest,
  parts: Parts<P, Q, B>,
): { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B> } {
  const problems: ValidationProblem[] = [];
  const out: Record<string, unknown> = {};
  for (const where of ["params", "query", "body"] as const) {
    const schema = parts[where];
    if (!schema) continue;
    // A missing JSON body arrives as undefined; an object schema then reports its required fields.
    const value = where === "body" && request.body == null ? {} : request[where];
    const result = schema.safeParse(value);
    if (result.success) out[where] = result.data;
    else
      for (const issue of result.error.issues)
        problems.push({ path: [where, ...issue.path.map(String)].join("."), message: issue.message });
  }
  if (problems.length > 0)
    throw new AirlockError(
      ErrorCode.USAGE,
      `invalid request: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      { details: problems },
    );
  return out as { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B> };
}
