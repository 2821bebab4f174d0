import { HubSyncError } from "./hub-errors.js";

/** Error codes of a connection that never reached the server (refused, no such host, timed out, reset). */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** The system error code of a failed `fetch` (undici puts it on `cause`), or `null` for other errors. */
export function connectionErrorCode(error: unknown): string | null {
  if (!(error instanceof TypeError) || error.message !== "fetch failed") {
    return null;
  }
  const cause = (error as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  return typeof code === "string" && CONNECTION_CODES.has(code) ? code : "UNKNOWN";
}

/**
 * Wraps `fetch` so that a request that cannot reach the Hub (after the retries of the fetch it wraps)
 * throws a one-line `HubSyncError` with code `NETWORK` saying which URL failed and what to try.
 */
export function networkErrors(base: typeof fetch, hubUrl: string): typeof fetch {
  return async (input, init) => {
    try {
      return await base(input, init);
    } catch (error) {
      const code = connectionErrorCode(error);
      if (code === null || init?.signal?.aborted) {
        throw error;
      }
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const target = url.startsWith(hubUrl) ? hubUrl : new URL(url).origin;
      throw new HubSyncError(
        "NETWORK",
        `cannot reach ${target} (${code}); check your network connection and the Hub URL (--hub-url, default https://huggingface.co), then run the command again`,
        { cause: error },
      );
    }
  };
}
