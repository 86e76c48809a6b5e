import type { Actor, EventMetadata } from '@keys/domain';

/** Who asks, from where: becomes the metadata of every event the request appends. */
export interface RequestContext {
  actor: Actor;
  ipAddress: string | null;
  userAgent: string | null;
  correlationId: string;
}

export const toMetadata = (ctx: RequestContext): EventMetadata => ({
  actor: ctx.actor,
  ipAddress: ctx.ipAddress,
  userAgent: ctx.userAgent,
  correlationId: ctx.correlationId,
});
