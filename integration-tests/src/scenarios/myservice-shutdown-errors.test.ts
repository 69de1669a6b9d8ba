import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('myservice_shutdown_errors');
