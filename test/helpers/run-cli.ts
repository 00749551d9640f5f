/**
 * Runs the built `extract` command (dist/cli/main.js) as a child process, the way users run it.
 * The environment is scrubbed of the developer's own OpenAI settings, so nothing can reach
 * beyond the loopback server a test points it at.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const cliPath = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  stdin?: string | Buffer;
  cwd?: string;
  /** Called once the child is spawned (to kill or signal it mid-run). */
  onSpawn?: (child: ChildProcess) => void;
  /** Another copy of the CLI to run. @default cliPath */
  cli?: string;
}

/** A clean environment: PATH and HOME only, plus what the test adds. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.cli ?? cliPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: cleanEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on("error", () => undefined); // the child may exit before reading stdin
    child.stdin.end(options.stdin);
    options.onSpawn?.(child);
  });
}

/** A CSV file (an output, usually) as records keyed by its header. */
export function readCsv(file: string): Record<string, string>[] {
  return parse(readFileSync(file), { columns: true });
}
