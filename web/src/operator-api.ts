// The HTTP calls the monitor page makes as the operator (docs/api.md): the join link and the
// "Forward calls" toggle. Each takes a fresh token from the host, like the sockets do.

import { SignedOut } from "./connection";

/** A refusal or failure, with the server's message (`{"error":{"message"}}`) when it sent one. */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Answers the parsed JSON body (undefined for 204), or throws ApiFailure. */
export async function callApi(method: "POST" | "DELETE", path: string, token: () => Promise<string>): Promise<unknown> {
  let bearer: string;
  try {
    bearer = await token();
  } catch (e) {
    if (e instanceof SignedOut) throw new ApiFailure("you are not signed in; sign in again", 401);
    throw new ApiFailure("the host could not be reached; try again", 0);
  }
  let answer: Response;
  try {
    answer = await fetch(path, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json", Authorization: `Bearer ${bearer}` },
    });
  } catch {
    throw new ApiFailure("the server could not be reached; try again", 0);
  }
  if (answer.status === 204) return undefined;
  let body: unknown;
  try {
    body = await answer.json();
  } catch {
    body = undefined;
  }
  if (!answer.ok) {
    const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
    throw new ApiFailure(typeof message === "string" && message !== "" ? message : `HTTP ${answer.status}`, answer.status);
  }
  return body;
}
