import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('login_errors');
