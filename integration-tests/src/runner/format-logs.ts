import { tail } from '@stickygw/testkit';
import type { ServiceLog } from '../harness/stack-driver.js';

/** Lines per service printed when a scenario fails; the full files stay in the log directory. */
const TAIL_LINES = 60;

export function formatLogs(logs: readonly ServiceLog[], logDir: string | undefined): string {
  const sections = logs.map((log) => `----- ${log.name} -----\n${tail(log.text, TAIL_LINES) || '(empty)'}`);
  const where = logDir === undefined ? '' : `\n(full logs in ${logDir})`;
  return `===== service logs (last ${TAIL_LINES} lines each) =====\n${sections.join('\n')}${where}\n`;
}
