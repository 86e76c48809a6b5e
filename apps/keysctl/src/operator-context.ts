import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { RequestContext } from '@keys/key-service';

/** Events appended by keysctl name the operator (KEYSCTL_OPERATOR, else the OS user). */
export function operatorContext(): RequestContext {
  let name = process.env.KEYSCTL_OPERATOR;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = 'unknown';
    }
  }
  return { actor: { type: 'operator', name }, ipAddress: null, userAgent: 'keysctl', correlationId: randomUUID() };
}
