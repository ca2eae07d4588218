// Parsing and evaluating one bare expression (no `${{ }}`), with GitHub's contexts and error codes.
import { Evaluator, Lexer, Parser, data } from "@actions/expressions";
import { ContextAccess, FunctionCall, type Expr } from "@actions/expressions/ast";
import { ErrorType, ExpressionError } from "@actions/expressions/errors";
import { AirlockError } from "../errors/index.js";
import { fromData, toData } from "./convert.js";
import { EXTENSION_FUNCTION_INFO, STATUS_FUNCTIONS, buildFunctions, type FunctionHost } from "./functions.js";

/** Context names GitHub knows; they parse everywhere and read as null when not supplied. */
export const KNOWN_CONTEXTS = [
  "github",
  "env",
  "vars",
  "job",
  "jobs",
  "steps",
  "runner",
  "secrets",
  "strategy",
  "matrix",
  "needs",
  "inputs",
] as const;

/** A context access of a context the caller did not supply yields null instead of crashing. */
class NullSafeEvaluator extends Evaluator {
  override visitContextAccess(contextAccess: ContextAccess): data.ExpressionData {
    // Typed as always defined, but the library returns undefined for a name missing from the dictionary.
    const found: data.ExpressionData | undefined = super.visitContextAccess(contextAccess);
    return found ?? new data.Null();
  }
}

function isUnknownFunction(err: unknown): boolean {
  // `typ` is private in the typings but is the only structured field the parser gives us.
  return (
    err instanceof ExpressionError &&
    (err as unknown as { typ: ErrorType }).typ === ErrorType.ErrorUnrecognizedFunction
  );
}

/** Parses `expr`; throws EXPRESSION_INVALID (or EXPRESSION_FAILED for an unknown function). */
export function parseExpression(expr: string, contextNames: Iterable<string> = KNOWN_CONTEXTS): Expr {
  let ast: Expr | undefined;
  try {
    const { tokens } = new Lexer(expr).lex();
    ast = new Parser(tokens, [...contextNames], EXTENSION_FUNCTION_INFO).parse();
  } catch (err) {
    // An unknown function is "not available here" rather than malformed text, so it is a runtime failure.
    const code = isUnknownFunction(err) ? "EXPRESSION_FAILED" : "EXPRESSION_INVALID";
    throw new AirlockError(code, `Invalid expression '${expr}': ${(err as Error).message}`, { cause: err });
  }
  if (ast === undefined) throw new AirlockError("EXPRESSION_INVALID", `Empty expression '${expr}'`);
  return ast;
}

/** Syntax problems of a bare expression, as messages naming it; [] when it parses. */
export function expressionSyntaxProblems(expr: string): string[] {
  try {
    parseExpression(expr);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

function children(node: Expr): Expr[] {
  // Every AST class keeps its sub-expressions in these fields; Star and Literal have none.
  const n = node as unknown as {
    expr?: Expr;
    left?: Expr;
    right?: Expr;
    group?: Expr;
    index?: Expr;
    args?: Expr[];
  };
  return [n.expr, n.left, n.right, n.group, n.index, ...(n.args ?? [])].filter((c) => c !== undefined);
}

/** Whether the expression calls success(), failure(), always() or cancelled() anywhere. */
export function callsStatusFunction(node: Expr): boolean {
  if (node instanceof FunctionCall) {
    const name = node.functionName.lexeme.toLowerCase();
    if ((STATUS_FUNCTIONS as readonly string[]).includes(name)) return true;
  }
  return children(node).some(callsStatusFunction);
}

/** Lower-case names of the contexts the expression reads. */
function referencedContexts(node: Expr, into = new Set<string>()): Set<string> {
  if (node instanceof ContextAccess) into.add(node.name.lexeme.toLowerCase());
  for (const c of children(node)) referencedContexts(c, into);
  return into;
}

/** Converts only the contexts the expression reads: `github.event` can be large and most expressions skip it. */
function contextDictionary(ctx: Record<string, unknown>, wanted: Set<string>): data.Dictionary {
  const d = new data.Dictionary();
  for (const [k, v] of Object.entries(ctx)) if (wanted.has(k.toLowerCase())) d.add(k, toData(v));
  return d;
}

/** Evaluates a parsed expression to expression data; runtime errors become EXPRESSION_FAILED. */
export function evaluateAst(
  ast: Expr,
  exprText: string,
  ctx: Record<string, unknown>,
  host: FunctionHost | undefined,
): data.ExpressionData {
  const wanted = referencedContexts(ast);
  const allowed = host?.contexts?.map((c) => c.toLowerCase());
  const refused = allowed && [...wanted].find((c) => !allowed.includes(c));
  if (refused) {
    throw new AirlockError(
      "EXPRESSION_FAILED",
      `Expression '${exprText}' failed: the '${refused}' context is not available here`,
    );
  }
  try {
    return new NullSafeEvaluator(ast, contextDictionary(ctx, wanted), buildFunctions(host)).evaluate();
  } catch (err) {
    if (err instanceof AirlockError) {
      throw new AirlockError(err.code, `Expression '${exprText}' failed: ${err.message}`, { cause: err });
    }
    throw new AirlockError(
      "EXPRESSION_FAILED",
      `Expression '${exprText}' failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Context names accepted by the parser for this evaluation: GitHub's plus whatever the caller supplied. */
export function contextNames(ctx: Record<string, unknown>): string[] {
  return [...KNOWN_CONTEXTS, ...Object.keys(ctx)];
}

/** Evaluates a bare expression to a plain JS value. */
export function evaluateBare(expr: string, ctx: Record<string, unknown>, host?: FunctionHost): unknown {
  return fromData(evaluateAst(parseExpression(expr, contextNames(ctx)), expr, ctx, host));
}
