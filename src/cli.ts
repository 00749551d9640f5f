#!/usr/bin/env node
/**
 * The `extract` command. For now it prints its usage; the CSV runner lands with the CLI issue.
 * This is the only module that prints or sets exit codes.
 */
const USAGE = `Usage: extract <input.csv ...|-> --schema <name|path> [-o out.csv|out.jsonl] [options]

Turns each CSV row into one record of the schema's shape with a language model.
The library API (extract, extractOne) is available now; see README.md.`;

process.stdout.write(`${USAGE}\n`);
process.exitCode = process.argv.slice(2).some((arg) => arg === "--help" || arg === "-h") ? 0 : 2;
