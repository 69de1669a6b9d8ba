import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('basic_workflow');
