import { describeScenario } from './test-support/describe-scenario.js';

describeScenario('stream_subscription_myservice_stop');
