// Environments of a repository and the review of deployments:
//   /repositories/:id/environments        GET: every environment with its protection rules
//   /repositories/:id/environments/:env   GET; PUT { reviewers, reviewerRole, branches, tags,
//                                         waitTimerMinutes } (201 new, 200 changed); DELETE
//                                         (with the environment's secrets and variables)
//   /runs/:id/deployments                 GET: the run's deployments (waiting ones say who may
//                                         approve); POST { state, environments?, comment? }
// Changes to rules and every review (and every refused review) are audited. A change of rules
// applies at once to the jobs waiting on the environment (released, still waiting, or failed).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { appendAudit } from "../../audit/index.js";
import {
  deleteEnvironment,
  getEnvironment,
  listDeployments,
  listEnvironments,
  publicView,
  putEnvironment,
  regateEnvironment,
  reviewDeployments,
  type EnvironmentRow,
  type GateOutcome,
} from "../../environments/index.js";
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";
import { inTransaction, ownerOfRun } from "../../orchestrator/catalog/index.js";
import { actorName, requestAccess } from "../access.js";
import { audited, requestActor } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { IdParams } from "../schemas.js";
import { EnvParams, PutEnvironment, ReviewDeployments } from "../schemas-environments.js";
import { validate } from "../validate.js";

const rulesOf = (e: EnvironmentRow): Record<string, unknown> => ({
  reviewers: e.reviewers,
  reviewerRole: e.reviewerRole,
  branches: e.branches,
  tags: e.tags,
  waitTimerMinutes: e.waitTimerMinutes,
});

function outcomeView(o: GateOutcome): Record<string, unknown> {
  switch (o.kind) {
    case "released":
      return { status: "released", eligibleAt: o.eligibleAt?.toISOString() ?? null };
    case "waiting":
      return { status: "waiting", reason: o.reason };
    case "failed":
      return { status: "failed", error: o.error };
    default:
      return { status: "unchanged" };
  }
}

export function environmentRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const object = (id: number) => ({ kind: "repository", id });

  app.get("/repositories/:id/environments", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return listEnvironments(ctx.pool, params.id);
  });

  app.get("/repositories/:id/environments/:env", async (request) => {
    const { params } = validate(request, { params: EnvParams });
    return publicView(await getEnvironment(ctx.pool, params.id, params.env));
  });

  app.put("/repositories/:id/environments/:env", async (request, reply) => {
    const { params, body } = validate(request, { params: EnvParams, body: PutEnvironment });
    const r = await audited(
      ctx.pool,
      request,
      async (db) => {
        const put = await putEnvironment(db, params.id, params.env, body, actorName(request));
        // Jobs waiting on the old rules are judged by the new ones (none left stuck).
        const regated = await regateEnvironment(db, params.id, put.environment.name);
        return { ...put, regated };
      },
      (r) => ({
        action: r.created ? "environment.created" : "environment.updated",
        object: object(params.id),
        details: { repositoryId: params.id, environment: r.environment.name, ...rulesOf(r.environment) },
      }),
    );
    if (r.regated.length > 0)
      ctx.runs.gatesChanged(r.regated.filter((j) => j.outcome.kind === "failed").map((j) => j.jobId));
    return reply.status(r.created ? 201 : 200).send(publicView(r.environment));
  });

  app.delete("/repositories/:id/environments/:env", async (request, reply) => {
    const { params } = validate(request, { params: EnvParams });
    await audited(
      ctx.pool,
      request,
      (db) => deleteEnvironment(db, params.id, params.env),
      (e) => ({
        action: "environment.deleted",
        object: object(params.id),
        // Its secrets and variables went with it: their names, never a value.
        details: {
          repositoryId: params.id,
          environment: e.name,
          ...rulesOf(e),
          secrets: e.secrets,
          variables: e.variables,
        },
      }),
    );
    return reply.status(204).send();
  });

  // Waiting deployments say whether the caller may review them (the web UI shows the button then).
  app.get("/runs/:id/deployments", async (request) => {
    const { params } = validate(request, { params: IdParams });
    const access = requestAccess(request);
    const owner = await ownerOfRun(ctx.pool, params.id);
    const user = access.user;
    const asking =
      user && owner && access.check("deployments.review", owner).ok
        ? { id: user.id, name: user.name, role: access.repositoryRole(owner) }
        : null;
    return listDeployments(ctx.pool, params.id, asking);
  });

  app.post("/runs/:id/deployments", async (request, reply) => {
    const { params, body } = validate(request, { params: IdParams, body: ReviewDeployments });
    const reviewer = await reviewerOf(ctx, request, params.id);
    const run = { kind: "run", id: params.id };
    let result;
    try {
      result = await inTransaction(ctx.pool, async (db) => {
        const r = await reviewDeployments(db, {
          runId: params.id,
          state: body.state,
          reviewer,
          ...(body.environments ? { environments: body.environments } : {}),
          ...(body.comment !== undefined ? { comment: body.comment } : {}),
        });
        for (const env of r.environments)
          await appendAudit(db, {
            ...requestActor(request),
            action: `deployment.${body.state}`,
            object: run,
            details: {
              runId: params.id,
              environment: env.name,
              jobs: env.jobs.map((j) => ({ id: j.jobId, name: j.jobName })),
              reviewer: reviewer.name,
              comment: body.comment ?? null,
            },
          });
        return r;
      });
    } catch (err) {
      // A refused review is a security decision an operator may want to see (self-review above all).
      if (isAirlockError(err, ErrorCode.FORBIDDEN))
        await appendAudit(ctx.pool, {
          ...requestActor(request),
          action: "deployment.review_refused",
          object: run,
          details: { runId: params.id, state: body.state, reviewer: reviewer.name, reason: err.message },
        });
      throw err;
    }
    const ended = result.environments.flatMap((e) =>
      e.jobs.filter((j) => j.outcome.kind === "failed").map((j) => j.jobId),
    );
    ctx.runs.gatesChanged(ended);
    return reply.send({
      state: body.state,
      environments: result.environments.map((e) => ({
        name: e.name,
        jobs: e.jobs.map((j) => ({ id: j.jobId, name: j.jobName, ...outcomeView(j.outcome) })),
      })),
    });
  });
}

/** The user asking, with their role on the run's repository (the route is for users only). */
async function reviewerOf(ctx: RouteContext, request: FastifyRequest, runId: number) {
  const access = requestAccess(request);
  const user = access.user;
  if (!user)
    throw new AirlockError(ErrorCode.FORBIDDEN, "a service token cannot review deployments; a user must");
  const owner = await ownerOfRun(ctx.pool, runId);
  if (!owner) throw new AirlockError(ErrorCode.NOT_FOUND, `run ${runId} not found`);
  return { id: user.id, name: user.name, role: access.repositoryRole(owner) };
}
