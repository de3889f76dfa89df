// Message ids are Redis stream ids `<milliseconds>-<sequence>`. As text "999-5" sorts after
// "1000-0", so they are compared as two integers (BigInt: both halves are u64 on the server).

import type { MessageId } from "./protocol";

const SHAPE = /^(\d+)-(\d+)$/;

function parts(id: MessageId): [bigint, bigint] | undefined {
  const m = SHAPE.exec(id);
  return m ? [BigInt(m[1]!), BigInt(m[2]!)] : undefined;
}

/** Whether `id` comes after `than`; a malformed `id` never does. */
export function isNewer(id: MessageId, than: MessageId | undefined): boolean {
  const a = parts(id);
  if (!a) return false;
  const b = than === undefined ? undefined : parts(than);
  if (!b) return true;
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}
