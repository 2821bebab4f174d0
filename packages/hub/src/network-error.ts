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
 * Why a `fetch` failed, in a few words: the system error code when there is one (`ECONNREFUSED`), else
 * the message of undici's cause (`bad port`, `unknown scheme`, `Invalid URL`), else the error's message.
 */
export function fetchFailureReason(error: unknown): string {
  const cause = (
    error as { cause?: { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown }> } }
  )?.cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (typeof code === "string" && CONNECTION_CODES.has(code)) {
    return code;
  }
  if (typeof cause?.message === "string" && cause.message !== "") {
    return typeof code === "string" ? `${code}: ${cause.message}` : cause.message;
  }
  return typeof code === "string" ? code : ((error as Error)?.message ?? String(error));
}

/**
 * True when retrying the failed request may help: the connection failed with a system or socket error
 * code (refused, reset, timed out). A URL undici refuses (bad port, unknown scheme, invalid URL) fails the
 * same way every time, and so does any error that is not a failed fetch.
 */
export function isRetriableFetchError(error: unknown): boolean {
  if (!(error instanceof TypeError) || error.message !== "fetch failed") {
    return false;
  }
  const cause = (error as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  return typeof code === "string" && code !== "ERR_INVALID_URL";
}

/** True for the TypeError `fetch` throws before sending anything: a URL it cannot parse. */
function isInvalidUrl(error: unknown): boolean {
  return error instanceof TypeError && /^Failed to parse URL/.test(error.message);
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
      if ((code === null && !isInvalidUrl(error)) || init?.signal?.aborted) {
        throw error;
      }
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const target = url.startsWith(hubUrl) ? hubUrl : URL.canParse(url) ? new URL(url).origin : url;
      throw new HubSyncError(
        "NETWORK",
        `cannot reach ${target} (${fetchFailureReason(error)}); check your network connection and the Hub URL (--hub-url, default https://huggingface.co), then run the command again`,
        { cause: error },
      );
    }
  };
}
