import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('gateway_error_unavailable');
