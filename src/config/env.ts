/**
 * Every environment variable llm-extract reads, read here and nowhere else. The run reads them
 * once (in `normalizeOptions()`) and passes the values down as settings; the CLI reads them
 * only to scrub keys from what it prints.
 */

/** What the environment says, one field per variable; a field is undefined when its variable is unset. */
export interface Environment {
  /** `$EXTRACT_MODEL`: the model when `model` is not given. Empty counts as unset. */
  model?: string;
  /**
   * `$EXTRACT_SCHEMAS_DIR`: the folder of named schemas when `schemasDir` is not given. Taken as
   * it is: an empty value means the working directory.
   */
  schemasDir?: string;
  /** `$OPENAI_BASE_URL`: the server when `baseURL` is not given (and Azure is not configured). Empty counts as unset. */
  openaiBaseURL?: string;
  /** `$OPENAI_API_KEY`: the key when `apiKey` is not given (and Azure is not configured). Empty counts as unset. */
  openaiApiKey?: string;
  /** `$AZURE_OPENAI_ENDPOINT`: with no `baseURL`, requests go to this Azure OpenAI resource. Empty counts as unset. */
  azureEndpoint?: string;
  /** `$AZURE_OPENAI_API_KEY`: the key for Azure when `apiKey` is not given. Empty counts as unset. */
  azureApiKey?: string;
  /** `$AZURE_OPENAI_DEPLOYMENT`: the Azure deployment; the model name when unset. Empty counts as unset. */
  azureDeployment?: string;
  /**
   * `$OPENAI_API_VERSION` (the SDK's own variable), else `$AZURE_OPENAI_API_VERSION`: Azure's API
   * version. Empty counts as unset.
   */
  azureApiVersion?: string;
  /**
   * `$MODEL_ENDPOINT`, else `$HF_ENDPOINT`, the first that is a URL, ending in `/`: where
   * node-llama-cpp downloads `hf:` models from (node-llama-cpp's own rule, which it applies itself;
   * read here to check the host is reachable before a download that would retry for minutes).
   */
  modelDownloadEndpoint?: string;
}

/**
 * Reads every variable llm-extract uses.
 * @param env The variables to read. @default process.env
 * @example
 * const { model } = readEnvironment({ EXTRACT_MODEL: "gpt-4.1-mini" });
 */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const set = (name: string) => env[name] || undefined;
  return {
    model: set("EXTRACT_MODEL"),
    schemasDir: env.EXTRACT_SCHEMAS_DIR,
    openaiBaseURL: set("OPENAI_BASE_URL"),
    openaiApiKey: set("OPENAI_API_KEY"),
    azureEndpoint: set("AZURE_OPENAI_ENDPOINT"),
    azureApiKey: set("AZURE_OPENAI_API_KEY"),
    azureDeployment: set("AZURE_OPENAI_DEPLOYMENT"),
    azureApiVersion: set("OPENAI_API_VERSION") ?? set("AZURE_OPENAI_API_VERSION"),
    modelDownloadEndpoint: firstUrl([env.MODEL_ENDPOINT, env.HF_ENDPOINT]),
  };
}

/**
 * The keys the environment holds, whether or not the run uses them: scrubbed literally from every
 * message, since Azure keys (32 hex digits, or 84 base64-like characters) match no `sk-` pattern.
 */
export function environmentSecrets(environment: Environment): string[] {
  return [environment.openaiApiKey, environment.azureApiKey].filter((key) => key !== undefined);
}

function firstUrl(values: readonly (string | undefined)[]): string | undefined {
  const url = values.find((value) => value && URL.canParse(value));
  return url === undefined || url.endsWith("/") ? url : `${url}/`;
}
