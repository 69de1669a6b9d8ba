import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('sticky_session');
