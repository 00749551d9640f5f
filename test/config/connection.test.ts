import { describe, expect, it } from "vitest";
import { resolveConnection } from "../../src/config/connection.js";
import { readEnvironment } from "../../src/config/env.js";

const azureEnv = {
  AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.example/",
  AZURE_OPENAI_API_KEY: "azure-key",
  AZURE_OPENAI_DEPLOYMENT: "prod",
  OPENAI_API_VERSION: "2025-01-01",
};

describe("resolveConnection", () => {
  it.each([
    ["the options before the environment", { baseURL: "http://127.0.0.1:1/v1", apiKey: "k" }, { OPENAI_BASE_URL: "http://127.0.0.1:2/v1", OPENAI_API_KEY: "env" }, { baseURL: "http://127.0.0.1:1/v1", apiKey: "k" }],
    ["OPENAI_BASE_URL and OPENAI_API_KEY without options", {}, { OPENAI_BASE_URL: "http://127.0.0.1:2/v1", OPENAI_API_KEY: "env" }, { baseURL: "http://127.0.0.1:2/v1", apiKey: "env" }],
    ["no server and no key from an empty environment", {}, {}, { baseURL: undefined, apiKey: undefined }],
    ["an explicit baseURL before Azure", { baseURL: "http://127.0.0.1:1/v1" }, { ...azureEnv, OPENAI_API_KEY: "env" }, { baseURL: "http://127.0.0.1:1/v1", apiKey: "env" }],
    [
      "Azure before OPENAI_BASE_URL",
      {},
      { ...azureEnv, OPENAI_BASE_URL: "http://127.0.0.1:2/v1", OPENAI_API_KEY: "openai-key" },
      { azure: { endpoint: "https://r.openai.azure.example/", apiVersion: "2025-01-01", deployment: "prod" }, apiKey: "azure-key" },
    ],
    ["an explicit apiKey for Azure too", { apiKey: "k" }, azureEnv, { apiKey: "k", azure: { endpoint: "https://r.openai.azure.example/", apiVersion: "2025-01-01", deployment: "prod" } }],
  ])("takes %s", (_what, options, env, expected) => {
    const { secrets: _secrets, ...connection } = resolveConnection(options, readEnvironment(env));
    expect(connection).toEqual(expected);
  });

  it("lists every key of the environment to scrub, in use or not", () => {
    const { secrets } = resolveConnection({ apiKey: "k" }, readEnvironment({ OPENAI_API_KEY: "openai-key", AZURE_OPENAI_API_KEY: "azure-key" }));
    expect(secrets).toEqual(["openai-key", "azure-key"]);
  });
});
