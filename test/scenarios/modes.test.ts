import { mkdtemp } from "node:fs/promises";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { ExtractError, extract, extractOne, type ExtractOptions } from "../../src/index.js";
import { normalizeOptions } from "../../src/config/options.js";
import { preparePrompt } from "../../src/run/context.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import { toStrictJsonSchema } from "../../src/schema/strict-schema.js";
import { jsonReply, startChatServer, toolReply, type ChatServer } from "../servers/chat-server.js";
import { repoRoot, runCli } from "../helpers/run-cli.js";
import { collect } from "../helpers/collect.js";

const ticket = z.object({
  name: z.string().nullable(),
  urgency: z.enum(["low", "high"]),
  contact: z.object({ email: z.string().nullable() }),
  items: z.array(z.object({ sku: z.string(), qty: z.int() })),
});
const good = { name: "Ana", urgency: "high", contact: { email: null }, items: [{ sku: "A-1", qty: 2 }] } as const;
const strictTicket = toStrictJsonSchema(toPromptJsonSchema(ticket));

let server: ChatServer;
beforeEach(async () => {
  server = await startChatServer();
  server.handle(() => ({ status: 500, error: { message: "unexpected request in this test" } }));
});
afterEach(() => server.close());

function options(extra: Partial<ExtractOptions<typeof ticket>> = {}): ExtractOptions<typeof ticket> {
  return { schema: ticket, model: "test-model", baseURL: server.url, apiKey: "sk-test-01234", maxRetries: 0, ...extra };
}


const roles = (body: any) => body.messages.map((message: { role: string }) => message.role);

describe("--mode json_schema at the wire", () => {
  it("sends strict Structured Outputs the API accepts, and returns typed data", async () => {
    server.script(jsonReply(good));
    const data = await extractOne("Ana, 2x A-1, urgent", options({ mode: "json_schema" }));

    expect(data).toEqual(good);
    expectTypeOf(data.urgency).toEqualTypeOf<"low" | "high">();
    const [request] = server.requests;
    expect(request!.schemaErrors).toEqual([]);
    expect(request!.body.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "extraction", strict: true, schema: strictTicket },
    });
    expect(request!.body.response_format.json_schema.schema.properties.contact).toMatchObject({
      required: ["email"],
      additionalProperties: false,
    });
    expect(request!.body.tools).toBeUndefined();
    expect(request!.body.tool_choice).toBeUndefined();
    // The schema stays in the system message: servers that constrain decoding do not show it to the model.
    expect(request!.body.messages[0].content).toContain('"urgency"');
  });

  it("names the schema after its file", async () => {
    server.script(jsonReply({ name: "Ada", age: null }));
    const schemasDir = path.join(repoRoot, "test/fixtures/schemas");
    await extractOne("Ada", { ...options(), schema: "person", schemasDir, mode: "json_schema" });
    expect(server.bodies[0].response_format.json_schema.name).toBe("person");
  });

  it("re-asks after a wrong shape with a request the API accepts", async () => {
    server.script(jsonReply({ ...good, urgency: "urgent" }), jsonReply(good));
    const [result] = await collect(extract(["text"], options({ mode: "json_schema" })));

    expect(result).toMatchObject({ ok: true, attempts: 2, data: good });
    const retry = server.requests[1]!;
    expect(retry.schemaErrors).toEqual([]);
    expect(roles(retry.body)).toEqual(["system", "user", "assistant", "user"]);
    expect(retry.body.messages[3].content).toMatch(/\$\.urgency: Invalid option/);
    expect(retry.body.response_format).toEqual(server.bodies[0].response_format);
  });

  it("refuses a schema that cannot be strict before any call, naming the field", async () => {
    const loose = z.object({ contact: z.object({ email: z.string().optional() }) });
    const error = await extractOne("x", { ...options(), schema: loose, mode: "json_schema" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SCHEMA_INVALID", path: "contact.email" });
    expect((error as Error).message).toMatch(/\.nullable\(\) instead/);
    expect(server.requests).toHaveLength(0);
  });
});

describe("--mode tools at the wire", () => {
  it("forces one strict function and reads the data from its arguments", async () => {
    server.script(toolReply("extraction", good));
    const data = await extractOne("Ana, 2x A-1, urgent", options({ mode: "tools" }));

    expect(data).toEqual(good);
    const [request] = server.requests;
    expect(request!.schemaErrors).toEqual([]);
    expect(request!.body.tools).toEqual([
      { type: "function", function: { name: "extraction", parameters: strictTicket, strict: true } },
    ]);
    expect(request!.body.tool_choice).toEqual({ type: "function", function: { name: "extraction" } });
    expect(request!.body.response_format).toBeUndefined();
  });

  it("re-asks after bad arguments by sending them back as plain assistant text, which the API accepts", async () => {
    server.script(toolReply("extraction", '{"name": "Ana", "urgency": "high"'), toolReply("extraction", good));
    const [result] = await collect(extract(["text"], options({ mode: "tools" })));

    // The truncated arguments are repaired locally only if they then fit; here they do not.
    expect(result).toMatchObject({ ok: true, attempts: 2, data: good });
    const retry = server.requests[1]!;
    expect(retry.schemaErrors).toEqual([]);
    expect(roles(retry.body)).toEqual(["system", "user", "assistant", "user"]);
    expect(retry.body.messages[2]).toEqual({ role: "assistant", content: '{"name": "Ana", "urgency": "high"' });
    expect(retry.body.messages.some((message: any) => "tool_calls" in message)).toBe(false);
    expect(retry.body.tool_choice).toEqual({ type: "function", function: { name: "extraction" } });
  });

  it("sends the plain schema without `strict` when the schema has no strict form", async () => {
    const loose = z.object({ name: z.string(), nickname: z.string().optional() });
    server.script(toolReply("extraction", { name: "Ana" }));
    const data = await extractOne("x", { ...options(), schema: loose, mode: "tools" });

    expect(data).toEqual({ name: "Ana" });
    const tool = server.bodies[0].tools[0].function;
    expect(tool.strict).toBeUndefined();
    expect(tool.parameters).toEqual(toPromptJsonSchema(loose));
  });

  it("judges the text of a server that ignored tool_choice and answered in text", async () => {
    server.script(jsonReply(good));
    expect(await extractOne("x", options({ mode: "tools" }))).toEqual(good);
  });
});

describe("--mode json_object", () => {
  it("is the default and unchanged: response_format json_object, no tools", async () => {
    server.script(jsonReply(good));
    await extractOne("x", options());
    expect(server.bodies[0].response_format).toEqual({ type: "json_object" });
    expect(server.bodies[0].tools).toBeUndefined();
  });
});

describe("a server that refuses a mode", () => {
  it.each([
    ["json_schema", { param: "response_format", message: "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model." }, /`mode` json_object/],
    ["tools", { param: "tools", message: "This model does not support tools." }, /`mode` json_object/],
    ["json_object", { param: null, message: "'response_format.type' must be 'json_schema' or 'text'" }, /`mode` json_schema/],
  ] as const)("stops the run once with MODE_UNSUPPORTED in %s mode, suggesting the mode that works", async (mode, error, advice) => {
    server.handle(() => ({ status: 400, error }));
    const failure = await collect(extract(["a", "b", "c"], options({ mode, concurrency: 1 }))).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(ExtractError);
    expect((failure as ExtractError).code).toBe("MODE_UNSUPPORTED");
    expect((failure as ExtractError).message).toMatch(new RegExp(`refused \`mode\` ${mode}`));
    expect((failure as ExtractError).message).toMatch(advice);
    expect(server.requests).toHaveLength(1);
  });

  it("leaves other 400s to the row (a param that is not the mode's)", async () => {
    server.handle(() => ({ status: 400, error: { param: "messages", message: "Invalid 'messages[1].content': string too long." } }));
    const [result] = await collect(extract(["a"], options({ mode: "json_schema" })));
    expect(result).toMatchObject({ ok: false, error: { code: "MODEL_ERROR" } });
  });
});

describe("the loopback server refuses what the API refuses (so the tests above mean something)", () => {
  const client = () => new OpenAI({ baseURL: server.url, apiKey: "sk-test-01234", maxRetries: 0 });
  const messages = [{ role: "user" as const, content: "json please" }];
  const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: InstanceType<typeof OpenAI.APIError>) => error);

  it("a strict schema with an open object or a property missing from required", async () => {
    const open = { type: "object", properties: { a: { type: "string" } }, required: ["a"] };
    const error = await refusal(
      client().chat.completions.create({
        model: "m",
        messages,
        response_format: { type: "json_schema", json_schema: { name: "x", strict: true, schema: open } },
      }),
    );
    expect(error).toMatchObject({ status: 400, param: "response_format" });
    expect(error!.message).toMatch(/'additionalProperties' is required to be supplied and to be false/);

    const partial = { ...open, required: [], additionalProperties: false };
    const tools = [{ type: "function" as const, function: { name: "x", strict: true, parameters: partial } }];
    expect(await refusal(client().chat.completions.create({ model: "m", messages, tools }))).toMatchObject({ status: 400 });
  });

  it("a tool_choice naming no declared function, and a tool call left unanswered", async () => {
    const tools = [{ type: "function" as const, function: { name: "x", parameters: { type: "object" } } }];
    const wrongChoice = client().chat.completions.create({ model: "m", messages, tools, tool_choice: { type: "function", function: { name: "y" } } });
    expect(await refusal(wrongChoice)).toMatchObject({ status: 400, param: "tool_choice" });

    const unanswered = client().chat.completions.create({
      model: "m",
      tools,
      messages: [
        ...messages,
        { role: "assistant", tool_calls: [{ id: "call_1", type: "function", function: { name: "x", arguments: "{}" } }] },
        { role: "user", content: "again" },
      ],
    });
    expect((await refusal(unanswered))!.message).toMatch(/must be followed by tool messages/);
  });
});

describe("the mode as an option", () => {
  it("rejects an unknown mode naming the value and the allowed ones", () => {
    expect(() => normalizeOptions({ mode: "xml" as never })).toThrow(
      'Expected `mode` to be one of json_object, json_schema, tools, got "xml".',
    );
  });

  it("is part of the run fingerprint, so a resume never mixes modes (json_object keeps the old one)", async () => {
    const fingerprint = async (mode?: "json_object" | "json_schema" | "tools") =>
      (await preparePrompt({ schema: ticket, model: "m", mode })).fingerprint;
    const [plain, jsonObject, jsonSchema, tools] = await Promise.all([
      fingerprint(),
      fingerprint("json_object"),
      fingerprint("json_schema"),
      fingerprint("tools"),
    ]);
    expect(jsonObject).toBe(plain);
    expect(new Set([jsonObject, jsonSchema, tools]).size).toBe(3);
  });
});

describe("extract CLI --mode", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "modes-"));
  });
  const env = { EXTRACT_SCHEMAS_DIR: path.join(repoRoot, "test/fixtures/schemas"), EXTRACT_MODEL: "test-model" };
  const input = () => {
    const file = path.join(dir, "in.csv");
    writeFileSync(file, "text\nAda\nGrace\n");
    return file;
  };

  it("exits 2 with one MODE_UNSUPPORTED message when the server refuses json_schema", async () => {
    server.handle(() => ({ status: 400, error: { param: "response_format", message: "response_format json_schema is not supported" } }));
    const run = await runCli([input(), "--schema", "person", "--base-url", server.url, "--mode", "json_schema", "-c", "1", "-o", path.join(dir, "out.csv")], { env });

    expect(run.code).toBe(2);
    expect(run.stderr.match(/MODE_UNSUPPORTED/g)).toHaveLength(1);
    expect(run.stderr).toMatch(/refused --mode json_schema.*Use --mode json_object/);
  });

  it("extracts with --mode tools", async () => {
    server.handle(() => toolReply("person", { name: "ADA", age: null }));
    const run = await runCli([input(), "--schema", "person", "--base-url", server.url, "--mode", "tools"], { env });

    expect(run.code).toBe(0);
    expect(run.stdout).toContain("ADA");
    expect(server.requests.every((request) => request.schemaErrors.length === 0)).toBe(true);
  });

  it("rejects an unknown --mode naming the flag", async () => {
    const run = await runCli([input(), "--schema", "person", "--base-url", server.url, "--mode", "xml"], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/INVALID_OPTION: Expected --mode to be one of json_object, json_schema, tools, got "xml"/);
  });

  it.each([
    ["json_object", /Mode: +json_object/],
    ["json_schema", /Mode: +json_schema \(response_format json_schema "person", strict\); the schema also goes with every request: about \d+ more prompt tokens/],
    ["tools", /Mode: +tools \(tools: function "person", strict, forced by tool_choice\)/],
  ])("--dry-run says how %s asks for the JSON", async (mode, line) => {
    const run = await runCli([input(), "--schema", "person", "--mode", mode, "--dry-run"], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(line);
    expect(run.stdout).toContain("── system ──");
    expect(server.requests).toHaveLength(0);
  });

  it("--dry-run with an embedded model says the grammar does the job, and demands no strict form of the schema", async () => {
    const run = await runCli([input(), "--schema", "optional-field", "--mode", "json_schema", "-m", "local:./model.gguf", "--dry-run"], { env });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Mode: +grammar \(the embedded engine decodes under a grammar made from the schema; --mode does not apply\)/);
  });

  it("--mode json_schema rejects that schema for an HTTP server, naming the field", async () => {
    const run = await runCli([input(), "--schema", "optional-field", "--mode", "json_schema", "--dry-run"], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SCHEMA_INVALID: .*optional-field\.ts: .*nickname/);
  });
});
