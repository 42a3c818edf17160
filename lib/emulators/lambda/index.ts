/** The local Lambda Invoke endpoint: what callers import. */
export { startLocalLambda } from './endpoint.ts';
export { functionNameOf } from './request.ts';
export * from './types.ts';
