import { describe, expect, it } from "vitest";
import { onOwnNetwork } from "../../../src/engine/http/own-network.js";

describe("onOwnNetwork", () => {
  it.each([
    ["http://127.0.0.1:8000/v1", true],
    ["http://127.9.9.9/v1", true],
    ["http://localhost:11434/v1", true],
    ["http://gpu.localhost/v1", true],
    ["http://[::1]:8080/v1", true],
    ["http://10.1.2.3/v1", true],
    ["http://172.16.0.1/v1", true],
    ["http://172.31.255.254/v1", true],
    ["http://192.168.1.20:8000/v1", true],
    ["http://169.254.1.1/v1", true],
    ["http://[fd12:3456::1]/v1", true],
    ["http://[fe80::1]/v1", true],
    ["http://[::ffff:10.0.0.5]/v1", true],
  ])("%s is on the user's own machine or network", (url, expected) => {
    expect(onOwnNetwork(url)).toBe(expected);
  });

  // Only parsed, never contacted; the public ones are names and addresses reserved for
  // documentation (RFC 2606, RFC 5737, RFC 3849), which no host answers to.
  it.each([
    ["https://api.hosted.invalid/v1"], // a name is not resolved: counted as remote
    ["https://my-gpu-box.internal/v1"],
    ["http://172.32.0.1/v1"], // just past 172.16.0.0/12
    ["http://198.51.100.7/v1"],
    ["http://[2001:db8::1]/v1"],
    ["http://[::ffff:203.0.113.5]/v1"],
    ["not a url"],
  ])("%s is not", (url) => {
    expect(onOwnNetwork(url)).toBe(false);
  });
});
