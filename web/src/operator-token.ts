// The monitor is for operators only: the server refuses other tokens at the handshake (403),
// which a browser sees only as a closed socket. Reading the token's own claims lets the page
// say so plainly ("Sign in as an operator first") instead of retrying a refused socket.

import { SignedOut } from "./connection";

/** `getToken`, refusing tokens of anyone but staff with the admin or advocate privilege. */
export function operatorOnly(getToken: () => Promise<string>): () => Promise<string> {
  return async () => {
    const token = await getToken();
    if (!isOperator(token)) throw new SignedOut("this sign-in is not an operator's");
    return token;
  };
}

function isOperator(token: string): boolean {
  try {
    const payload = (token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload)) as { kind?: unknown; privileges?: unknown };
    return (
      claims.kind === "staff" &&
      Array.isArray(claims.privileges) &&
      claims.privileges.some((p) => p === "admin" || p === "advocate")
    );
  } catch {
    return false;
  }
}
