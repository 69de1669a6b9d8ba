import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('system_overload');
