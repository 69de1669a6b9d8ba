export { type GatewayComponentOptions, gatewayComponent } from './harness/gateway-component.js';
export type { StackComponent } from './harness/stack-component.js';
