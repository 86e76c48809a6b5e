import { Controller, type ExecutionContext, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import type { KeyType } from '@keys/domain';

/** Proxy keys are managed under /api/keys, billing keys under /api/billing-keys, with the same route shapes. */
export const KEY_ROUTE_PREFIX: Readonly<Record<KeyType, string>> = { proxy: 'api/keys', billing: 'api/billing-keys' };

const ROUTE_KEY_TYPE = Symbol('keys:route-key-type');

/**
 * Mounts a use case under one key type: put it on a subclass of the use case's controller, whose routes are
 * relative to the prefix. The type travels with the route, so no handler works it out from the path.
 */
export const KeyRoute = (keyType: KeyType): ClassDecorator => {
  const operationIdsOfType: ClassDecorator = (target) => registerOperationIds(target, keyType);
  return applyDecorators(Controller(KEY_ROUTE_PREFIX[keyType]), SetMetadata(ROUTE_KEY_TYPE, keyType), operationIdsOfType);
};

/** The key type that @KeyRoute bound to the controller handling this request. */
export const RouteKeyType = createParamDecorator((_data: unknown, context: ExecutionContext): KeyType => {
  const keyType = Reflect.getMetadata(ROUTE_KEY_TYPE, context.getClass()) as KeyType | undefined;
  // A programming error (a handler class registered without @KeyRoute), never a client's.
  if (!keyType) throw new Error(`${context.getClass().name} is registered without @KeyRoute`);
  return keyType;
});

const KEY_OPERATION_IDS = Symbol('keys:key-operation-ids');
/** `<controller class>.<method>` → operationId, filled by @KeyRoute for the methods marked with @KeyOperationId. */
const operationIds = new Map<string, string>();

/**
 * The OpenAPI operationId of a use case's route per key type, e.g. `{ proxy: 'createKey', billing: 'createBillingKey' }`.
 * Put it on the abstract base's handler; @KeyRoute on each subclass picks its type's id. (A method decorator
 * alone cannot: both subclasses share the base's method, and with it its metadata.)
 */
export const KeyOperationId =
  (ids: Readonly<Record<KeyType, string>>): MethodDecorator =>
  (_target, _key, descriptor) => {
    Reflect.defineMetadata(KEY_OPERATION_IDS, ids, descriptor.value as object);
  };

/** The operationId @KeyOperationId gave this controller's method, if any (openapi.ts's operationIdFactory). */
export function keyRouteOperationId(controllerName: string, methodName: string): string | undefined {
  return operationIds.get(`${controllerName}.${methodName}`);
}

function registerOperationIds(target: { name: string; prototype: object }, keyType: KeyType): void {
  for (let proto: object | null = target.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const method = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
      const ids = typeof method === 'function' ? (Reflect.getMetadata(KEY_OPERATION_IDS, method) as Record<KeyType, string> | undefined) : undefined;
      const id = `${target.name}.${name}`;
      if (ids && !operationIds.has(id)) operationIds.set(id, ids[keyType]);
    }
  }
}
