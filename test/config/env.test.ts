import { describe, expect, it } from "vitest";
import { environmentSecrets, readEnvironment, type Environment } from "../../src/config/env.js";

describe("readEnvironment", () => {
  it.each<[string, NodeJS.ProcessEnv, keyof Environment, string | undefined]>([
    ["EXTRACT_MODEL", { EXTRACT_MODEL: "gpt-4.1-mini" }, "model", "gpt-4.1-mini"],
    ["EXTRACT_SCHEMAS_DIR", { EXTRACT_SCHEMAS_DIR: "/data/schemas" }, "schemasDir", "/data/schemas"],
    ["OPENAI_BASE_URL", { OPENAI_BASE_URL: "http://127.0.0.1:8080/v1" }, "openaiBaseURL", "http://127.0.0.1:8080/v1"],
    ["OPENAI_API_KEY", { OPENAI_API_KEY: "sk-test" }, "openaiApiKey", "sk-test"],
    ["AZURE_OPENAI_ENDPOINT", { AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.example/" }, "azureEndpoint", "https://r.openai.azure.example/"],
    ["AZURE_OPENAI_API_KEY", { AZURE_OPENAI_API_KEY: "0123abcd" }, "azureApiKey", "0123abcd"],
    ["AZURE_OPENAI_DEPLOYMENT", { AZURE_OPENAI_DEPLOYMENT: "prod" }, "azureDeployment", "prod"],
    ["OPENAI_API_VERSION", { OPENAI_API_VERSION: "2025-01-01" }, "azureApiVersion", "2025-01-01"],
    ["AZURE_OPENAI_API_VERSION", { AZURE_OPENAI_API_VERSION: "2024-06-01" }, "azureApiVersion", "2024-06-01"],
    ["OPENAI_API_VERSION before AZURE_OPENAI_API_VERSION", { OPENAI_API_VERSION: "a", AZURE_OPENAI_API_VERSION: "b" }, "azureApiVersion", "a"],
    ["MODEL_ENDPOINT, with a slash added", { MODEL_ENDPOINT: "http://127.0.0.1:9/hf" }, "modelDownloadEndpoint", "http://127.0.0.1:9/hf/"],
    ["HF_ENDPOINT", { HF_ENDPOINT: "http://127.0.0.1:9/" }, "modelDownloadEndpoint", "http://127.0.0.1:9/"],
    ["MODEL_ENDPOINT before HF_ENDPOINT", { MODEL_ENDPOINT: "http://127.0.0.1:1/", HF_ENDPOINT: "http://127.0.0.1:2/" }, "modelDownloadEndpoint", "http://127.0.0.1:1/"],
    ["HF_ENDPOINT when MODEL_ENDPOINT is no URL", { MODEL_ENDPOINT: "not a url", HF_ENDPOINT: "http://127.0.0.1:2/" }, "modelDownloadEndpoint", "http://127.0.0.1:2/"],
  ])("reads %s", (_name, env, field, value) => {
    expect(readEnvironment(env)[field]).toBe(value);
  });

  it.each([
    "EXTRACT_MODEL",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_DEPLOYMENT",
    "OPENAI_API_VERSION",
    "MODEL_ENDPOINT",
  ])("takes an empty %s as unset", (name) => {
    expect(Object.values(readEnvironment({ [name]: "" })).filter((value) => value !== undefined)).toEqual([]);
  });

  it("takes an empty EXTRACT_SCHEMAS_DIR as it is (the working directory)", () => {
    expect(readEnvironment({ EXTRACT_SCHEMAS_DIR: "" }).schemasDir).toBe("");
  });

  it("reads nothing from an empty environment", () => {
    expect(Object.values(readEnvironment({})).filter((value) => value !== undefined)).toEqual([]);
  });

  it("reads process.env when given nothing", () => {
    process.env.EXTRACT_MODEL = "from-process-env";
    try {
      expect(readEnvironment().model).toBe("from-process-env");
    } finally {
      delete process.env.EXTRACT_MODEL;
    }
  });
});

describe("environmentSecrets", () => {
  it("lists the keys the environment holds, in use or not", () => {
    expect(environmentSecrets(readEnvironment({ OPENAI_API_KEY: "sk-a", AZURE_OPENAI_API_KEY: "az-b", EXTRACT_MODEL: "m" }))).toEqual(["sk-a", "az-b"]);
    expect(environmentSecrets(readEnvironment({}))).toEqual([]);
  });
});
