import type { ChatHistoryItem, Llama, LlamaChat, LlamaContext, LlamaGrammar, LlamaModel } from "node-llama-cpp";
import { ExtractError } from "../../errors/extract-error.js";
import type { JsonSchema } from "../../schema/json-schema.js";
import { toGrammarSchema } from "../../schema/grammar-schema.js";
import { downloadedModelFile, localModelFile, messageOf } from "./model-file.js";
import type { ChatEngine, ChatMessage, CompletionReply, CompletionRequest } from "../types.js";

/** The node-llama-cpp module, imported on demand (an optional peer dependency). */
export type NodeLlamaCpp = typeof import("node-llama-cpp");

/** Options of {@link createLlamaEngine}. */
export interface LlamaEngineOptions {
  /** `local:PATH` (a GGUF file, relative to the working directory) or an `hf:` model URI. */
  model: string;
  /** The run's JSON Schema: every reply is decoded under a grammar made from it. */
  jsonSchema: JsonSchema;
  /**
   * Decode under the schema's grammar. `false` lets the model write freely (the reply is then
   * checked like any HTTP model's), to measure what the grammar is worth: `npm run bench:accuracy`.
   * @default true
   */
  grammar?: boolean;
  /** Rows in flight; the context gets `min(concurrency, MAX_SEQUENCES)` sequences. */
  concurrency: number;
  /** Cancels a model download. */
  signal?: AbortSignal;
  /**
   * Where node-llama-cpp downloads `hf:` models from, ending in `/` (it reads $MODEL_ENDPOINT and
   * $HF_ENDPOINT itself; this must say the same). @default "https://huggingface.co/"
   */
  downloadEndpoint?: string;
}

/** The embedded engine: a {@link ChatEngine} that also frees the model when the run ends. */
export interface LlamaEngine extends ChatEngine {
  /** Context sequences: replies generated in parallel (batched into the same evaluations). */
  readonly sequences: number;
  /** Tokens one sequence holds: prompt plus reply. */
  readonly contextSize: number;
  /** Frees the context and the model. */
  close(): Promise<void>;
}

/**
 * The most sequences a context gets, whatever the concurrency. Each sequence holds its own
 * context window in memory, and on a CPU the batched evaluation of more than a few sequences
 * gains little: the default concurrency of 8 (sized for HTTP latency) would cost memory without
 * a gain. Rows beyond it wait for a free sequence.
 */
export const MAX_SEQUENCES = 4;

/**
 * Tokens per sequence at most (less when the model was trained on less, or memory is short).
 * A prompt (system message with the schema, one row) plus a reply fit with room to spare; a
 * larger window would only reserve memory.
 */
const MAX_CONTEXT_SIZE = 8192;

/**
 * A {@link ChatEngine} that runs a GGUF model in this process through `node-llama-cpp` (an
 * optional peer dependency, imported only here). Every reply is generated under a grammar made
 * from the run's JSON Schema, so it is always JSON of the schema's shape (unless `grammar` is
 * false). The model and its context are loaded once; `concurrency` maps to context sequences (at
 * most {@link MAX_SEQUENCES}), each with its own chat, reused from row to row so the system
 * prompt's evaluation is cached.
 *
 * @throws ExtractError `ENGINE_UNAVAILABLE` when node-llama-cpp is not installed or has no binary
 * for this machine, `MODEL_NOT_FOUND` for a missing file, `CONNECTION_FAILED` when an `hf:` model
 * is not cached and cannot be downloaded, `MODEL_ERROR` when the file does not load.
 */
export async function createLlamaEngine(options: LlamaEngineOptions): Promise<LlamaEngine> {
  const localFile = options.model.startsWith("local:") ? localModelFile(options.model.slice("local:".length)) : undefined;
  const lib = await importNodeLlamaCpp();
  const modelPath = localFile ?? (await downloadedModelFile(lib, options.model, options.downloadEndpoint, options.signal));
  const llama = await loadLlama(lib);
  // A grammar error is a schema problem; found before the (possibly long) model load.
  const grammar = options.grammar === false ? undefined : await createGrammar(llama, options.jsonSchema);
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath });
  } catch (error) {
    throw new ExtractError("MODEL_ERROR", `Could not load the model ${modelPath}: ${messageOf(error)}. Is it a GGUF file?`, { cause: error });
  }
  const sequences = Math.max(1, Math.min(options.concurrency, MAX_SEQUENCES));
  let context: LlamaContext;
  try {
    context = await model.createContext({
      sequences,
      contextSize: { max: MAX_CONTEXT_SIZE },
      // llama.cpp's threads spin while they wait for each other: more threads than free cores
      // (node-llama-cpp's default is at least 4) makes a small model many times slower. One
      // core is left to Node for the rest of the pipeline.
      threads: Math.max(1, llama.cpuMathCores - 1),
    });
  } catch (error) {
    await model.dispose();
    throw new ExtractError("MODEL_ERROR", `Could not create a context for ${options.model}: ${messageOf(error)}. Lower \`concurrency\` to need less memory.`, {
      cause: error,
    });
  }
  const chats = Array.from({ length: sequences }, () => new lib.LlamaChat({ contextSequence: context.getSequence() }));
  const pool = new ChatPool(chats);

  return {
    model: options.model,
    sequences,
    contextSize: context.contextSize,
    async complete(request: CompletionRequest): Promise<CompletionReply> {
      const chat = await pool.acquire(request.signal);
      try {
        return await generate(chat, model, grammar, context.contextSize, request);
      } finally {
        pool.release(chat);
      }
    },
    async close() {
      await context.dispose();
      await model.dispose();
    },
  };
}

/** One reply on one sequence. */
async function generate(chat: LlamaChat, model: LlamaModel, grammar: LlamaGrammar | undefined, contextSize: number, request: CompletionRequest): Promise<CompletionReply> {
  const history = toChatHistory(request.messages);
  const promptTokens = chat.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer).length;
  // The reply must fit beside the prompt: past the window, node-llama-cpp would silently drop
  // the start of the conversation (the system message) to make room.
  const room = contextSize - promptTokens;
  if (room <= 0) {
    throw new ExtractError(
      "INPUT_TOO_LARGE",
      `The prompt is ${promptTokens} tokens, more than the model's context window of ${contextSize} tokens. Send fewer \`columns\`.`,
    );
  }
  const maxTokens = Math.min(request.maxTokens, room);
  let completionTokens = 0;
  let response;
  try {
    response = await chat.generateResponse(history, {
      ...(grammar ? { grammar } : {}),
      maxTokens,
      signal: request.signal,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      onToken: (tokens) => {
        completionTokens += tokens.length;
      },
    });
  } catch (error) {
    if (request.signal?.aborted) throw new ExtractError("ABORTED", "The request was aborted.", { cause: error });
    throw new ExtractError("MODEL_ERROR", `The embedded model failed: ${messageOf(error)}.`, { cause: error });
  }
  const content = response.response;
  return {
    content,
    refusal: null,
    finishReason: finishReason(response.metadata.stopReason, content),
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens },
  };
}

/**
 * The Chat Completions finish reason of a generation. The grammar ends every reply with a few
 * newlines that stop the generation; a reply stopped by the token limit just before them is
 * nonetheless whole when it parses (a prefix of a JSON object never does), so it counts as `stop`.
 */
function finishReason(stopReason: string, content: string): string {
  if (stopReason !== "maxTokens") return "stop";
  try {
    JSON.parse(content);
    return "stop";
  } catch {
    return "length";
  }
}

/** Chat Completions messages as node-llama-cpp's chat history, ending with the reply to generate. */
function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message) => {
    if (message.role === "system") return { type: "system", text: message.content };
    if (message.role === "user") return { type: "user", text: message.content };
    return { type: "model", response: [message.content] };
  });
  history.push({ type: "model", response: [] });
  return history;
}

/** Sequences handed to one request at a time; requests beyond them wait in order. */
class ChatPool {
  readonly #free: LlamaChat[];
  readonly #waiting: ((chat: LlamaChat) => void)[] = [];

  constructor(chats: LlamaChat[]) {
    this.#free = [...chats];
  }

  acquire(signal?: AbortSignal): Promise<LlamaChat> {
    const chat = this.#free.pop();
    if (chat) return Promise.resolve(chat);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(take), 1);
        reject(new ExtractError("ABORTED", "The request was aborted."));
      };
      const take = (free: LlamaChat) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(free);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(take);
    });
  }

  release(chat: LlamaChat): void {
    const next = this.#waiting.shift();
    if (next) next(chat);
    else this.#free.push(chat);
  }
}

async function importNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  try {
    return await import("node-llama-cpp");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" && messageOf(error).includes("node-llama-cpp")) {
      throw new ExtractError(
        "ENGINE_UNAVAILABLE",
        "node-llama-cpp is not installed: npm install node-llama-cpp (needed for local: and hf: models only).",
        { cause: error },
      );
    }
    throw new ExtractError("ENGINE_UNAVAILABLE", `node-llama-cpp could not be loaded: ${messageOf(error)}.`, { cause: error });
  }
}

/** One llama.cpp binding per process: it holds no model, and every run can share it. */
let llamaInstance: Promise<Llama> | undefined;

function loadLlama(lib: NodeLlamaCpp): Promise<Llama> {
  llamaInstance ??= lib
    .getLlama({
      // Never build llama.cpp from source in the middle of a run (that downloads its source
      // and compiles for minutes): use the prebuilt binaries node-llama-cpp ships through npm,
      // or a build made beforehand with `npx --no node-llama-cpp source download`.
      build: "never",
      // llama.cpp's messages go to stderr only: stdout may be the CSV output.
      logger: (level, message) => {
        if (level === "error" || level === "fatal" || level === "warn") process.stderr.write(`llama.cpp: ${message.trimEnd()}\n`);
      },
    })
    .catch((error: unknown) => {
      llamaInstance = undefined;
      throw new ExtractError(
        "ENGINE_UNAVAILABLE",
        `node-llama-cpp has no working llama.cpp binary for this machine (${messageOf(error)}). ` +
          "Build one with npx --no node-llama-cpp source download, or use an HTTP model.",
        { cause: error },
      );
    });
  return llamaInstance;
}

async function createGrammar(llama: Llama, jsonSchema: JsonSchema): Promise<LlamaGrammar> {
  try {
    // The converted schema is in node-llama-cpp's subset, which its types cannot tell from here.
    return await llama.createGrammarForJsonSchema(toGrammarSchema(jsonSchema) as never);
  } catch (error) {
    throw new ExtractError("SCHEMA_INVALID", `The schema cannot be turned into a decoding grammar: ${messageOf(error)}.`, { cause: error });
  }
}
