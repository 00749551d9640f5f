/**
 * llm-extract: turn free-text rows into typed, validated data with a language model.
 * This file is the public API; anything not exported here is internal.
 */
export { extract, extractOne, type ExtractResult, type ExtractSuccess, type ExtractFailure, type InferData, type RowInput } from "./api/extract.js";
export {
  extractCsv,
  estimateCsv,
  type ExtractCsvOptions,
  type CsvRunSummary,
  type CsvProgressEvent,
  type CsvEstimate,
} from "./api/extract-csv.js";
export { extractBatch, type ExtractBatchOptions } from "./api/extract-batch.js";
export { batchJobStatus, cancelBatchJob, type BatchJobOptions, type JobBatch } from "./api/batch-jobs.js";
export type { OutputFormat } from "./io/output/write.js";
export type { DryRunEstimate } from "./api/dry-run.js";
export type { ResumeInfo } from "./run/journal.js";
export type { BatchOptions, BatchProgressEvent, OfflineBatchOptions } from "./config/batch-options.js";
export {
  DEFAULTS,
  type ExtractOptions,
  type ProgressEvent,
  type RunTotals,
  type SchemaInput,
} from "./config/options.js";
export { ExtractError, type ExtractErrorCode, type ExtractErrorContext } from "./errors/extract-error.js";
export { ERROR_CODES, type ErrorCodeRule } from "./errors/codes.js";
export type { RowError, RowResult } from "./core/row-result.js";
export { groundRecord, type Grounding, type Span } from "./quality/grounding.js";
export { loadSchema, listSchemas, type LoadedSchema, type LoadSchemaOptions } from "./schema/load.js";
export type { FewShotExample } from "./schema/examples.js";
export { toPromptJsonSchema, type ObjectSchema } from "./schema/json-schema.js";
export { toStrictJsonSchema } from "./schema/strict-schema.js";
export { buildSystemPrompt, buildExampleMessages, buildMessages, type ChatMessage } from "./core/prompt.js";
export type { ChatEngine, CompletionRequest, CompletionReply, ExtractMode, ReplyFormat, Usage } from "./engine/types.js";
export {
  evaluate,
  type EvaluateOptions,
  type EvalReport,
  type EvalRows,
  type FieldScore,
  type FieldKind,
  type FieldDifference,
  type RowDifferences,
} from "./quality/evaluate.js";
export { createReport, type ReportOptions, type RunFacts } from "./quality/report.js";
