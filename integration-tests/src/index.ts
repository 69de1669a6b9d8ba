export { gatewayComponent } from './harness/gateway-component.js';
