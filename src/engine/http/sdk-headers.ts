import { VERSION } from "openai/version";

// The headers the `openai` SDK sends with a Chat Completions request from a client built as
// `createClient()` builds it (an API key, a base URL, nothing else), written out here so that the
// fast path can send them without loading the SDK: its 150 modules are the largest single cost of
// a short run's start, and a run whose requests all succeed needs nothing else from it. The SDK's
// exported VERSION keeps the user agent in step; a test compares these headers with the ones the
// SDK's own `buildRequest` makes for the same options and environment, so an SDK upgrade that
// changes them fails there, not in a user's logs.

/** The connection a header set is for. */
export interface SdkHeaderOptions {
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** The environment the SDK reads `OPENAI_ORG_ID` and `OPENAI_PROJECT_ID` from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * The request headers of the SDK's `client.chat.completions.create()` for a first attempt, names
 * in lower case (retries change `x-stainless-retry-count`).
 *
 * @example sdkChatHeaders({ apiKey: "sk-..." })["user-agent"] // "OpenAI/JS 6.49.0"
 */
export function sdkChatHeaders({ apiKey, env = process.env }: SdkHeaderOptions): Record<string, string> {
  const headers: Record<string, string> = {
    accept: "application/json",
    authorization: `Bearer ${apiKey}`,
    "content-type": "application/json",
    "user-agent": `OpenAI/JS ${VERSION}`,
    "x-stainless-arch": sdkArch(process.arch),
    "x-stainless-lang": "js",
    "x-stainless-os": sdkPlatform(process.platform),
    "x-stainless-package-version": VERSION,
    "x-stainless-retry-count": "0",
    "x-stainless-runtime": "node",
    "x-stainless-runtime-version": process.version,
  };
  // As the SDK reads them: trimmed, and absent when empty.
  const organization = env.OPENAI_ORG_ID?.trim();
  const project = env.OPENAI_PROJECT_ID?.trim();
  if (organization) headers["openai-organization"] = organization;
  if (project) headers["openai-project"] = project;
  return headers;
}

/** `process.arch` as the SDK reports it. */
function sdkArch(arch: string): string {
  if (arch === "x64" || arch === "x32" || arch === "arm" || arch === "arm64") return arch;
  return arch ? `other:${arch}` : "unknown";
}

/** `process.platform` as the SDK reports it. */
function sdkPlatform(platform: string): string {
  const names: Record<string, string> = { android: "Android", darwin: "MacOS", win32: "Windows", freebsd: "FreeBSD", openbsd: "OpenBSD", linux: "Linux" };
  return names[platform] ?? (platform ? `Other:${platform}` : "Unknown");
}
