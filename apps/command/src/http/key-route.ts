import { Controller, type ExecutionContext, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import type { KeyType } from '@keys/domain';

/** Proxy keys are managed under /api/keys, billing keys under /api/billing-keys, with the same route shapes. */
export const KEY_ROUTE_PREFIX: Readonly<Record<KeyType, string>> = { proxy: 'api/keys', billing: 'api/billing-keys' };

const ROUTE_KEY_TYPE = Symbol('keys:route-key-type');

/**
 * Mounts a use case under one key type: put it on a subclass of the use case's controller, whose routes are
 * relative to the prefix. The type travels with the route, so no handler works it out from the path.
 */
export const KeyRoute = (keyType: KeyType): ClassDecorator =>
  applyDecorators(Controller(KEY_ROUTE_PREFIX[keyType]), SetMetadata(ROUTE_KEY_TYPE, keyType));

/** The key type that @KeyRoute bound to the controller handling this request. */
export const RouteKeyType = createParamDecorator((_data: unknown, context: ExecutionContext): KeyType => {
  const keyType = Reflect.getMetadata(ROUTE_KEY_TYPE, context.getClass()) as KeyType | undefined;
  // A programming error (a handler class registered without @KeyRoute), never a client's.
  if (!keyType) throw new Error(`${context.getClass().name} is registered without @KeyRoute`);
  return keyType;
});
