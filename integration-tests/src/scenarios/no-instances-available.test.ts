import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('no_instances_available');
