import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { sdkChatHeaders } from "../../../src/engine/http/sdk-headers.js";
import { chatCompletionsPath, fastChatServes } from "../../../src/engine/http/fast-chat.js";

// The fast path sends the SDK's headers and path without loading the SDK: these tests hold the
// copies to the SDK's own `buildRequest`, so an SDK release that changes either fails here.
// `buildRequest` only builds a request: nothing is sent, and every URL here is a loopback one.

/** What the SDK itself would send for a Chat Completions call of a client built like createClient's. */
async function sdkRequest(apiKey: string, baseURL: string) {
  const client = new OpenAI({ apiKey, baseURL, timeout: 5000, maxRetries: 2 });
  const { req, url } = await client.buildRequest({ method: "post", path: "/chat/completions", body: {} }, { retryCount: 0 });
  return { headers: Object.fromEntries((req.headers as Headers).entries()), url: new URL(url) };
}

const saved = { org: process.env.OPENAI_ORG_ID, project: process.env.OPENAI_PROJECT_ID };
afterEach(() => {
  for (const [name, value] of [["OPENAI_ORG_ID", saved.org], ["OPENAI_PROJECT_ID", saved.project]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe("sdkChatHeaders", () => {
  it("is exactly the SDK's header set for a key and a server", async () => {
    delete process.env.OPENAI_ORG_ID;
    delete process.env.OPENAI_PROJECT_ID;
    const { headers } = await sdkRequest("sk-header-check", "http://127.0.0.1:9/v1");
    expect(sdkChatHeaders({ apiKey: "sk-header-check" })).toEqual(headers);
  });

  it("adds the organization and project the SDK reads from the environment, trimmed", async () => {
    process.env.OPENAI_ORG_ID = " org-123 ";
    process.env.OPENAI_PROJECT_ID = "proj_456";
    const { headers } = await sdkRequest("sk-header-check", "http://127.0.0.1:9/v1");
    expect(headers["openai-organization"]).toBe("org-123");
    expect(sdkChatHeaders({ apiKey: "sk-header-check" })).toEqual(headers);
  });

  it("leaves out an empty organization, as the SDK does", async () => {
    process.env.OPENAI_ORG_ID = "  ";
    delete process.env.OPENAI_PROJECT_ID;
    const { headers } = await sdkRequest("sk-header-check", "http://127.0.0.1:9/v1");
    expect(sdkChatHeaders({ apiKey: "sk-header-check" })).toEqual(headers);
  });
});

describe("chatCompletionsPath", () => {
  it.each(["http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/", "http://127.0.0.1:9", "http://127.0.0.1:9/", "https://127.0.0.1:8443/openai/v1"])(
    "is the path the SDK posts to under %s",
    async (baseURL) => {
      const { url } = await sdkRequest("sk-path-check", baseURL);
      expect(chatCompletionsPath(baseURL)).toBe(url.pathname);
    },
  );
});

describe("fastChatServes", () => {
  it("takes plain http(s) base URLs and leaves the rest to the SDK", () => {
    expect(fastChatServes("http://127.0.0.1:8000/v1")).toBe(true);
    expect(fastChatServes("https://127.0.0.1:8443/v1")).toBe(true);
    // The SDK joins the path into a query string; the fast path does not imitate that.
    expect(fastChatServes("http://127.0.0.1:8000/v1?tenant=a")).toBe(false);
    // A port the Fetch standard blocks (fetch refuses it on the SDK path) is just a port here.
    expect(fastChatServes("http://127.0.0.1:6000/v1")).toBe(true);
    expect(fastChatServes("unix:/tmp/socket")).toBe(false);
    expect(fastChatServes("not a url")).toBe(false);
  });
});
