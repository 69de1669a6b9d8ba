import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('myservice_authentication_errors');
