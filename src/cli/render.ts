import { CLI_NAME_OF_OPTION } from "./flags.js";

/**
 * A library message as the command line shows it: each option named in backticks becomes the
 * flag that sets it (`maxTokensCap` -> --max-tokens-cap), or the environment variable where no
 * flag does (`schemasDir` -> $EXTRACT_SCHEMAS_DIR). Other backticked text is left as it is.
 * The library writes option names because its callers are programs (advice is data: STYLE.md 14).
 * `names` is the command's map (`cliNamesOf()` of its flags table); the `extract` command's by default.
 *
 * @example renderForCli("Raise `maxTokens` / `maxTokensCap`.") // "Raise --max-tokens / --max-tokens-cap."
 */
export function renderForCli(message: string, names: ReadonlyMap<string, string> = CLI_NAME_OF_OPTION): string {
  return message.replace(/`([A-Za-z]+)`/g, (quoted, name: string) => names.get(name) ?? quoted);
}
