import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('session_transfer');
