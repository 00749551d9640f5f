import { describe, expect, it } from "vitest";
import { normalizeText } from "../../src/quality/normalize-text.js";

describe("normalizeText", () => {
  it.each([
    ["  Nimbus\n Thermostat   T3. ", "nimbus thermostat t3"],
    ["«Acme Corp.»", "acme corp"],
    ["A-20417", "a-20417"],
    ["already lower", "already lower"],
    ["x\ty", "x y"],
    // "é" written as e + combining acute (NFD) equals the precomposed one (NFC)
    ["Ele\u0301onore", "el\u00e9onore"],
    ["ÉLODIE", "élodie"],
    ["...", ""],
  ])("%j -> %j", (text, expected) => {
    expect(normalizeText(text)).toBe(expected);
  });
});
