// Public face of the workflow module: parsing and validating workflow files and action.yml,
// trigger matching, matrix expansion and dispatch inputs. The model lives in model.ts.
export type * from "./model.js";
export { parseWorkflow } from "./parse.js";
export { expandMatrix, MAX_MATRIX_COMBINATIONS } from "./matrix.js";
export { conditionText, splitTemplate } from "./expressions.js";
