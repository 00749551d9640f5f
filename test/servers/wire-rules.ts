/**
 * Rules the real Chat Completions API enforces beyond its OpenAPI description, answered by the
 * loopback server with the API's 400s: strict schemas (Structured Outputs, strict function
 * tools), a forced `tool_choice` naming a declared function, and tool calls answered by tool
 * messages. Wording and `param` follow what the API sends.
 */

/** A 400's `message` and `param`. */
export interface WireRuleError {
  message: string;
  param: string;
}

/**
 * Keywords strict mode refuses (structural ones, and string/array constraints it has refused in
 * the past; a conservative oracle, since llm-extract drops the latter anyway).
 */
const STRICT_REFUSED = [
  "allOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas", "patternProperties",
  "prefixItems", "unevaluatedProperties", "unevaluatedItems", "contains", "oneOf", "minLength", "maxLength", "uniqueItems",
];

/**
 * The 400 for `json_object` mode when no message says "JSON" (in the real API's wording), or
 * undefined; `texts` are the messages' contents as text. The API checks it even on bodies it
 * otherwise takes as they are.
 */
export function missingJsonWordError(body: any, texts: string[]): WireRuleError | undefined {
  if (body.response_format?.type !== "json_object" || texts.some((text) => text.toLowerCase().includes("json"))) return undefined;
  return { message: "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", param: "messages" };
}

/** The first rule `body` breaks, or undefined. */
export function wireRuleError(body: any): WireRuleError | undefined {
  const format = body.response_format;
  if (format?.type === "json_schema" && format.json_schema?.strict === true) {
    const problem = strictSchemaProblem(format.json_schema.schema, []);
    if (problem) return { message: `Invalid schema for response_format '${format.json_schema.name}': ${problem}`, param: "response_format" };
  }
  const functions: string[] = [];
  for (const [i, tool] of (Array.isArray(body.tools) ? body.tools : []).entries()) {
    if (tool?.type !== "function") continue;
    functions.push(tool.function.name);
    const problem = tool.function.strict === true ? strictSchemaProblem(tool.function.parameters, []) : undefined;
    if (problem) return { message: `Invalid schema for function '${tool.function.name}': ${problem}`, param: `tools[${i}].function.parameters` };
  }
  const forced = body.tool_choice?.function?.name;
  if (typeof forced === "string" && !functions.includes(forced)) {
    return { message: `Invalid value for 'tool_choice': function '${forced}' is not one of the 'tools'.`, param: "tool_choice" };
  }
  return unansweredToolCall(body.messages);
}

/** An assistant message with `tool_calls` must be followed by one tool message per call id. */
function unansweredToolCall(messages: any[]): WireRuleError | undefined {
  for (const [i, message] of messages.entries()) {
    const ids: string[] = (message?.role === "assistant" && message.tool_calls ? message.tool_calls : []).map((call: any) => call.id);
    const answered = new Set<string>();
    for (let j = i + 1; j < messages.length && messages[j]?.role === "tool"; j++) answered.add(messages[j].tool_call_id);
    const missing = ids.filter((id) => !answered.has(id));
    if (missing.length) {
      return {
        message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(", ")}`,
        param: `messages.[${i + 1}].role`,
      };
    }
  }
  return undefined;
}

/** What makes `schema` invalid in strict mode: open objects, unlisted properties, refused keywords. */
function strictSchemaProblem(schema: any, context: string[]): string | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  const where = `In context=(${context.map((part) => `'${part}'`).join(", ")})`;
  for (const keyword of STRICT_REFUSED) {
    if (keyword in schema) return `${where}, '${keyword}' is not permitted.`;
  }
  const isObject = schema.type === "object" || (Array.isArray(schema.type) && schema.type.includes("object"));
  if (isObject) {
    if (schema.additionalProperties !== false) {
      return `${where}, 'additionalProperties' is required to be supplied and to be false.`;
    }
    const keys = Object.keys(schema.properties ?? {});
    const missing = keys.filter((key) => !(schema.required ?? []).includes(key));
    if (missing.length) {
      return `${where}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`;
    }
  }
  const children: [string[], unknown][] = [
    ...Object.entries(schema.properties ?? {}).map(([key, value]): [string[], unknown] => [["properties", key], value]),
    ...Object.entries(schema.$defs ?? {}).map(([key, value]): [string[], unknown] => [["$defs", key], value]),
    ...(Array.isArray(schema.anyOf) ? schema.anyOf : []).map((value: unknown, i: number): [string[], unknown] => [["anyOf", String(i)], value]),
    [["items"], schema.items],
  ];
  for (const [path, child] of children) {
    const problem = strictSchemaProblem(child, [...context, ...path]);
    if (problem) return problem;
  }
  return undefined;
}
