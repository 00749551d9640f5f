import { BlockList, isIP } from "node:net";

// Servers on the user's own machine or network (a vLLM or llama.cpp box, a proxy in the same
// rack) are the ones whose round trips a run's start should not wait on: they rarely rate-limit
// a single client, and a hosted API, which does, is never at such an address.

/** Loopback, private and link-local ranges (IPv4 and IPv6), as a {@link BlockList} checks them. */
let ownRanges: BlockList | undefined;
function ranges(): BlockList {
  if (ownRanges) return ownRanges;
  ownRanges = new BlockList();
  for (const [network, prefix] of [["127.0.0.0", 8], ["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16], ["169.254.0.0", 16]] as const) {
    ownRanges.addSubnet(network, prefix, "ipv4");
  }
  ownRanges.addAddress("::1", "ipv6");
  for (const [network, prefix] of [["fc00::", 7], ["fe80::", 10]] as const) ownRanges.addSubnet(network, prefix, "ipv6");
  return ownRanges;
}

/**
 * True when `baseURL` names a server on this machine or a private network: `localhost` (and
 * `*.localhost`), or an IP address in a loopback, private or link-local range. A host name other
 * than localhost is not resolved, so it counts as remote.
 *
 * @example onOwnNetwork("http://127.0.0.1:8000/v1") // true
 * @example onOwnNetwork("https://api.openai.com/v1") // false
 */
export function onOwnNetwork(baseURL: string): boolean {
  let host: string;
  try {
    host = new URL(baseURL).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return false;
  }
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const family = isIP(host);
  if (family === 0) return false;
  // BlockList checks an IPv4 address in IPv6 form (::ffff:10.0.0.5) against the IPv4 ranges.
  return ranges().check(host, family === 4 ? "ipv4" : "ipv6");
}
