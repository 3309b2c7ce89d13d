/**
 * Message catalog for errors and retry suggestions, in English and Simplified Chinese.
 * Templates use i18next's `{{name}}` interpolation (dotted paths allowed), so the renderer can
 * load this same catalog into i18next; the server and terminal core format with `formatMessage`.
 */

export const LOCALES = ['en', 'zh'] as const;
export type Locale = (typeof LOCALES)[number];

type Catalog = Record<string, string>;

export const messagesEn: Catalog = {
  'error.invalid_input': 'The request is not valid: {{field}} {{problem}}.',
  'error.reason_required': 'Please give a reason for rejecting this task.',
  'error.reason_required.cancel': 'Please give a reason for cancelling this task.',
  'error.unauthenticated': 'Sign-in required: the token is missing, unknown or revoked.',
  'error.sign_in_failed': 'The badge, PIN or password was not recognised.',
  'error.sign_in_failed.unknown_badge': 'This badge is not known here.',
  'error.sign_in_failed.wrong_pin': 'Wrong PIN. {{attemptsLeft}} more tries before this badge is locked for a few minutes.',
  'error.sign_in_failed.pin_required': '{{userName}}: enter your PIN.',
  'error.sign_in_failed.pin_not_set':
    'Supervisors and administrators sign in at a kiosk with badge and PIN, and {{userName}} has no PIN yet. Ask an administrator to set one.',
  'error.permission_denied': 'You are not allowed to do this.',
  'error.permission_denied.other_department': 'This task is no longer in the departments of this terminal (it was moved), so it cannot be worked here.',
  'error.not_in_department': 'You do not belong to department {{departmentName}}, so you cannot take this task.',
  'error.user_inactive': 'This account is deactivated.',
  'error.not_signed_in': 'Operator {{userId}} is not signed in at this terminal.',
  'error.task_not_found': 'Task {{taskId}} does not exist.',
  'error.user_not_found': 'User {{userId}} does not exist.',
  'error.department_not_found': 'Department {{departmentId}} does not exist.',
  'error.not_found': 'Nothing found here.',
  'error.task_conflict': 'This task is already taken by {{currentOwner.name}}.',
  'error.duplicate_assignment': 'This task is already assigned to {{currentOwner.name}}.',
  'error.task_no_department': 'This task is not yet assigned to a department, so it cannot be claimed.',
  'error.capacity_reached': 'You already have {{count}} active tasks; the limit is {{limit}}.',
  'error.task_draft': 'This task is still a draft: wait for the work order to be approved.',
  'error.task_completed': 'This task is already completed.',
  'error.task_cancelled': 'This task was cancelled.',
  'error.task_not_claimed': 'Nobody holds this task.',
  'error.task_not_started': 'Start the task before completing it.',
  'error.cooldown_active': 'You gave this task back recently; you can take it again in {{minutesLeft}} min.',
  'error.cross_step_excluded':
    'You did step "{{step}}" on this work order, so you may not also do step "{{conflictingStep}}".',
  'error.claim_stale':
    'This claim waited {{ageMinutes}} min offline, longer than the {{maxAgeMinutes}} min allowed, so it was not applied.',
  'error.no_eligible_operator': 'No operator is eligible for this task right now.',
  'error.import_rejected': 'The import has errors in {{badRows}} of its rows, so nothing was imported.',
  'error.payload_too_large': 'The request is too large.',
  'error.sign_in_locked': 'Too many failed sign-ins. Try again in {{retryAfterSeconds}} s.',
  'error.rate_limited': 'Too many requests. Try again in {{retryAfterSeconds}} s.',
  'error.internal_error': 'Something went wrong on our side.',
  'error.unavailable': 'The server is not reachable right now.',
  'error.supervisor_only': 'The supervisor overview is for supervisors and administrators. Operators sign in at a kiosk.',
  'error.not_in_department.target': '{{targetName}} is not in {{departmentName}}.',
  'error.user_inactive.target': 'The account of {{targetName}} is deactivated.',
  'error.permission_denied.target': '{{targetName}} is not an operator, so cannot be given tasks.',
  'error.capacity_reached.target': '{{targetName}} already has {{count}} active tasks; the limit is {{limit}}.',
  'error.cooldown_active.target': '{{targetName}} gave this task back recently ({{minutesLeft}} min of cooldown left).',
  'error.cross_step_excluded.target':
    '{{targetName}} did step "{{step}}" on this work order, so may not also do step "{{conflictingStep}}".',
  'suggestion.not_in_department.target': 'Pick an operator of {{departmentName}}, or ask an administrator to add {{targetName}} to it.',
  'suggestion.capacity_reached.target': 'Pick someone with spare capacity, or wait until {{targetName}} finishes a task.',
  'suggestion.cross_step_excluded.target': 'Pick someone who did not work the other step of this work order.',
  'suggestion.user_inactive.target': 'Pick an active operator.',
  'suggestion.permission_denied.target': 'Pick an operator.',
  'suggestion.supervisor_only': 'Use a kiosk terminal to see and claim your tasks.',

  'suggestion.task_conflict': 'Refresh the list and pick another task.',
  'suggestion.task_cancelled': 'Nothing more can be done with this task; pick another.',
  'suggestion.task_completed': 'This task is finished; pick another.',
  'suggestion.reason_required': 'Tap one of the reasons, or type one, then send again.',
  'suggestion.task_draft': 'Pick another task; this one opens when its work order is approved.',
  'suggestion.task_no_department': 'Pick another task, and ask a supervisor to give this one a department.',
  'suggestion.cross_step_excluded': 'Pick a task of another work order.',
  'suggestion.user_inactive': 'Ask your supervisor to activate the account.',
  'suggestion.not_signed_in': 'Scan your badge to sign in again, then repeat the action.',
  'suggestion.task_not_found': 'Refresh the list: the task may have been removed.',
  'suggestion.task_not_started': 'Tap Start first, then Complete.',
  'suggestion.task_not_claimed': 'Refresh: somebody may have released it already.',
  'suggestion.payload_too_large': 'Send less at once: split the file or the list into smaller parts.',
  'suggestion.no_eligible_operator': 'Free an operator of the department, or assign the task by hand later.',
  'action.task_conflict': 'Refresh',
  'suggestion.duplicate_assignment': 'Nothing to do: the operator already holds this task.',
  'action.duplicate_assignment': 'OK',
  'suggestion.capacity_reached': 'Finish or release one of your tasks first.',
  'action.capacity_reached': 'My tasks',
  'suggestion.cooldown_active': 'Pick another task, or wait until the cooldown ends.',
  'action.cooldown_active': 'OK',
  'suggestion.claim_stale': 'Check the task list and claim the task again if it is still free.',
  'action.claim_stale': 'Refresh',
  'suggestion.not_in_department': 'Ask your supervisor to add you to the department.',
  'action.not_in_department': 'OK',
  'suggestion.permission_denied': 'Ask a supervisor or administrator.',
  'suggestion.permission_denied.other_department': 'Ask your supervisor where the task went.',
  'action.permission_denied': 'OK',
  'suggestion.internal_error': 'Try again in a moment.',
  'action.internal_error': 'Retry',
  'suggestion.unavailable': 'Your work is saved on this terminal and will be sent when the link returns.',
  'action.unavailable': 'OK',
  'suggestion.sign_in_failed': 'Scan your badge again or enter it by hand.',
  'suggestion.sign_in_failed.wrong_pin': 'Enter your PIN again, or ask your supervisor to reset it.',
  'suggestion.sign_in_failed.pin_required': 'Type your PIN on the pad and tap OK.',
  'suggestion.sign_in_failed.pin_not_set': 'Use the supervisor overview on a desktop meanwhile.',
  'suggestion.import_rejected': 'Fix the listed rows and import the whole file again.',
  'action.import_rejected': 'OK',
  'action.sign_in_failed': 'Try again',
  'suggestion.sign_in_locked': 'Wait, then try again; ask a supervisor if you forgot your PIN.',
  'action.sign_in_locked': 'OK',
  'suggestion.rate_limited': 'Wait a moment, then try again.',
  'action.rate_limited': 'OK',
  'suggestion.default': 'Check the details and try something else.',
  'action.default': 'OK',
  // SEC-30: re-enrolling a terminal its server has accepted.
  'error.permission_denied.reenroll_needs_admin':
    "This terminal is already enrolled with {{serverUrl}}; re-enrolling needs an administrator's user id and password (or the maintenance secret).",
  'suggestion.permission_denied.reenroll_needs_admin': 'Ask an administrator to enter their user id and password.',
  'error.permission_denied.reenroll_not_admin': '{{userId}} is not an administrator; only an administrator may re-enroll this terminal.',
  'suggestion.permission_denied.reenroll_not_admin': 'Ask an administrator to enter their user id and password.',
  'error.permission_denied.reenroll_wrong_maintenance_secret':
    'The maintenance secret is wrong. {{attemptsLeft}} more tries before re-enrollment is locked for a few minutes.',
  'suggestion.permission_denied.reenroll_wrong_maintenance_secret': 'Check the secret, or use an administrator\'s user id and password.',
  'error.permission_denied.reenroll_no_maintenance_secret':
    "This terminal has no maintenance secret set; re-enrolling needs an administrator's user id and password.",
  'suggestion.permission_denied.reenroll_no_maintenance_secret': 'Ask an administrator to enter their user id and password.',
  'error.unavailable.reenroll_server_unreachable': "The server {{serverUrl}} cannot be reached to check the administrator's password.",
  'suggestion.unavailable.reenroll_server_unreachable': "Try again when it is back, or use this terminal's maintenance secret if that server is gone.",
  'error.unavailable.terminal_storage': 'This terminal could not save that: its disk is full or cannot be written ({{code}}). It was not saved and not done.',
  'suggestion.unavailable.terminal_storage': 'Call IT to free space on this terminal, then try again. What it saved before is kept and will still be sent.',
  'error.unavailable.database_unreachable': 'The server cannot reach its database right now; nothing was changed.',
  'suggestion.unavailable.database_unreachable': 'Try again in a moment: terminals send their saved work again by themselves when the database is back.',
  'error.unavailable.database_busy': 'The database was busy with other servers\' changes to the same work and rolled this one back; nothing was changed.',
  'suggestion.unavailable.database_busy': 'Try again in a moment: terminals send their saved work again by themselves.',
};

export const messagesZh: Catalog = {
  'error.invalid_input': '请求无效：{{field}} {{problem}}。',
  'error.reason_required': '请填写拒绝该任务的原因。',
  'error.reason_required.cancel': '请填写取消该任务的原因。',
  'error.unauthenticated': '需要登录：令牌缺失、未知或已被吊销。',
  'error.sign_in_failed': '无法识别工牌、PIN 或密码。',
  'error.sign_in_failed.unknown_badge': '此工牌在这里无法识别。',
  'error.sign_in_failed.wrong_pin': 'PIN 错误。再错 {{attemptsLeft}} 次，此工牌将被锁定几分钟。',
  'error.sign_in_failed.pin_required': '{{userName}}：请输入 PIN。',
  'error.sign_in_failed.pin_not_set': '主管和管理员在终端上需用工牌加 PIN 登录，而 {{userName}} 尚未设置 PIN。请联系管理员设置。',
  'error.permission_denied': '您没有权限执行此操作。',
  'error.permission_denied.other_department': '该任务已不属于本终端的部门（已被移走），不能在此处理。',
  'error.not_in_department': '您不属于部门 {{departmentName}}，无法认领该任务。',
  'error.user_inactive': '该账号已停用。',
  'error.not_signed_in': '操作员 {{userId}} 未在此终端登录。',
  'error.task_not_found': '任务 {{taskId}} 不存在。',
  'error.user_not_found': '用户 {{userId}} 不存在。',
  'error.department_not_found': '部门 {{departmentId}} 不存在。',
  'error.not_found': '未找到。',
  'error.task_conflict': '该任务已被 {{currentOwner.name}} 认领。',
  'error.duplicate_assignment': '该任务已分配给 {{currentOwner.name}}。',
  'error.task_no_department': '该任务尚未分配到部门，无法认领。',
  'error.capacity_reached': '您已有 {{count}} 项在手任务（已认领或进行中），上限为 {{limit}} 项。',
  'error.task_draft': '该任务仍是草稿，请等待施工单审核通过。',
  'error.task_completed': '该任务已完成。',
  'error.task_cancelled': '该任务已被取消。',
  'error.task_not_claimed': '该任务当前无人认领。',
  'error.task_not_started': '请先开始任务，再提交完成。',
  'error.cooldown_active': '您刚刚退回了该任务，{{minutesLeft}} 分钟后才能再次认领。',
  'error.cross_step_excluded': '您已在该施工单上完成工序“{{step}}”，不能再做工序“{{conflictingStep}}”。',
  'error.claim_stale': '该认领在离线状态下等待了 {{ageMinutes}} 分钟，超过允许的 {{maxAgeMinutes}} 分钟，未被执行。',
  'error.no_eligible_operator': '当前没有可分配该任务的操作员。',
  'error.import_rejected': '导入数据中有 {{badRows}} 行存在错误，未导入任何数据。',
  'error.payload_too_large': '请求过大。',
  'error.sign_in_locked': '登录失败次数过多，请 {{retryAfterSeconds}} 秒后再试。',
  'error.rate_limited': '请求过于频繁，请 {{retryAfterSeconds}} 秒后再试。',
  'error.internal_error': '服务器内部错误。',
  'error.unavailable': '暂时无法连接服务器。',
  'error.supervisor_only': '主管总览仅供主管和管理员使用。操作员请在工位终端登录。',
  'error.not_in_department.target': '{{targetName}} 不属于部门 {{departmentName}}。',
  'error.user_inactive.target': '{{targetName}} 的账号已停用。',
  'error.permission_denied.target': '{{targetName}} 不是操作员，不能分配任务。',
  'error.capacity_reached.target': '{{targetName}} 已有 {{count}} 项在手任务，上限为 {{limit}} 项。',
  'error.cooldown_active.target': '{{targetName}} 刚刚退回了该任务（冷却还剩 {{minutesLeft}} 分钟）。',
  'error.cross_step_excluded.target': '{{targetName}} 已在该施工单上完成工序“{{step}}”，不能再做工序“{{conflictingStep}}”。',
  'suggestion.not_in_department.target': '请选择 {{departmentName}} 的操作员，或请管理员将 {{targetName}} 加入该部门。',
  'suggestion.capacity_reached.target': '请选择有空余容量的人员，或等待 {{targetName}} 完成一个任务。',
  'suggestion.cross_step_excluded.target': '请选择未做过该施工单另一工序的人员。',
  'suggestion.user_inactive.target': '请选择在职的操作员。',
  'suggestion.permission_denied.target': '请选择操作员。',
  'suggestion.supervisor_only': '请在工位终端查看和认领您的任务。',

  'suggestion.task_conflict': '刷新列表后选择其他任务。',
  'suggestion.task_cancelled': '该任务已不能再做任何操作，请选择其他任务。',
  'suggestion.task_completed': '该任务已完成，请选择其他任务。',
  'suggestion.reason_required': '请点选一个原因或输入原因，然后再次提交。',
  'suggestion.task_draft': '请选择其他任务；该任务在施工单审核通过后才能操作。',
  'suggestion.task_no_department': '请选择其他任务，并请主管为该任务指定部门。',
  'suggestion.cross_step_excluded': '请选择其他施工单的任务。',
  'suggestion.user_inactive': '请联系主管启用该账号。',
  'suggestion.not_signed_in': '请重新刷卡登录，然后再操作一次。',
  'suggestion.task_not_found': '请刷新列表：该任务可能已被删除。',
  'suggestion.task_not_started': '请先点“开始”，再点“完成”。',
  'suggestion.task_not_claimed': '请刷新：该任务可能已被退回。',
  'suggestion.payload_too_large': '请分批提交：把文件或列表拆小后再发送。',
  'suggestion.no_eligible_operator': '请先让本部门的操作员腾出产能，或稍后手动分配该任务。',
  'action.task_conflict': '刷新',
  'suggestion.duplicate_assignment': '无需操作：该操作员已持有此任务。',
  'action.duplicate_assignment': '确定',
  'suggestion.capacity_reached': '请先完成或退回一个任务。',
  'action.capacity_reached': '我的任务',
  'suggestion.cooldown_active': '请选择其他任务，或等待冷却结束。',
  'action.cooldown_active': '确定',
  'suggestion.claim_stale': '请查看任务列表，如任务仍可认领请重新认领。',
  'action.claim_stale': '刷新',
  'suggestion.not_in_department': '请联系主管将您加入该部门。',
  'action.not_in_department': '确定',
  'suggestion.permission_denied': '请联系主管或管理员。',
  'suggestion.permission_denied.other_department': '请向主管询问该任务的去向。',
  'action.permission_denied': '确定',
  'suggestion.internal_error': '请稍后重试。',
  'action.internal_error': '重试',
  'suggestion.unavailable': '您的操作已保存在本终端，网络恢复后会自动发送。',
  'action.unavailable': '确定',
  'suggestion.sign_in_failed': '请重新刷工牌或手动输入。',
  'suggestion.sign_in_failed.wrong_pin': '请重新输入 PIN，或请主管重置。',
  'suggestion.sign_in_failed.pin_required': '请在键盘上输入 PIN 后点击确定。',
  'suggestion.sign_in_failed.pin_not_set': '在此之前请在电脑上使用主管总览。',
  'suggestion.import_rejected': '请修正所列的行后重新导入整个文件。',
  'action.import_rejected': '确定',
  'action.sign_in_failed': '重试',
  'suggestion.sign_in_locked': '请稍后再试；如忘记 PIN 请联系主管。',
  'action.sign_in_locked': '确定',
  'suggestion.rate_limited': '请稍后再试。',
  'action.rate_limited': '确定',
  'suggestion.default': '请检查详情后再试。',
  'action.default': '确定',
  'error.permission_denied.reenroll_needs_admin': '此终端已登记到 {{serverUrl}}；重新登记需要管理员的用户名和密码（或维护密钥）。',
  'suggestion.permission_denied.reenroll_needs_admin': '请管理员输入其用户名和密码。',
  'error.permission_denied.reenroll_not_admin': '{{userId}} 不是管理员；只有管理员可以重新登记此终端。',
  'suggestion.permission_denied.reenroll_not_admin': '请管理员输入其用户名和密码。',
  'error.permission_denied.reenroll_wrong_maintenance_secret': '维护密钥错误。再错 {{attemptsLeft}} 次，重新登记将被锁定几分钟。',
  'suggestion.permission_denied.reenroll_wrong_maintenance_secret': '请核对密钥，或使用管理员的用户名和密码。',
  'error.permission_denied.reenroll_no_maintenance_secret': '此终端未设置维护密钥；重新登记需要管理员的用户名和密码。',
  'suggestion.permission_denied.reenroll_no_maintenance_secret': '请管理员输入其用户名和密码。',
  'error.unavailable.reenroll_server_unreachable': '无法连接服务器 {{serverUrl}} 来核对管理员密码。',
  'suggestion.unavailable.reenroll_server_unreachable': '请在服务器恢复后重试；如该服务器已不再使用，请使用此终端的维护密钥。',
  'error.unavailable.terminal_storage': '本终端无法保存此操作：磁盘已满或无法写入（{{code}}）。操作未保存，也未执行。',
  'suggestion.unavailable.terminal_storage': '请联系 IT 清理本终端的磁盘空间后重试。之前已保存的操作仍会保留并发送。',
  'error.unavailable.database_unreachable': '服务器暂时无法连接其数据库；未做任何更改。',
  'suggestion.unavailable.database_unreachable': '请稍后重试：数据库恢复后，终端会自动重新发送已保存的操作。',
  'error.unavailable.database_busy': '数据库正忙于其他服务器对同一工作的更改，已撤回本次操作；未做任何更改。',
  'suggestion.unavailable.database_busy': '请稍后重试：终端会自动重新发送已保存的操作。',
};

export const catalogs: Record<Locale, Catalog> = { en: messagesEn, zh: messagesZh };

function lookup(path: string, params: Record<string, unknown>): unknown {
  let value: unknown = params;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Format `key` in `locale`, falling back to English, then to the generic suggestion/action
 * for `suggestion.*` / `action.*` keys without their own text.
 */
export function formatMessage(key: string, params: Record<string, unknown> = {}, locale: Locale = 'en'): string {
  const catalog = catalogs[locale] ?? messagesEn;
  const fallbackKey = key.startsWith('suggestion.') ? 'suggestion.default' : key.startsWith('action.') ? 'action.default' : key;
  // ERR-3: a refusal about another person (details.targetName) has its own wording, where one exists;
  // so does a refusal with a known reason (details.reason: a wrong PIN, a missing one).
  const variantKey =
    typeof params.targetName === 'string' ? `${key}.target` : typeof params.reason === 'string' && /^[a-z_]{1,40}$/.test(params.reason) ? `${key}.${params.reason}` : null;
  const template =
    (variantKey ? (catalog[variantKey] ?? messagesEn[variantKey]) : undefined) ??
    catalog[key] ??
    messagesEn[key] ??
    catalog[fallbackKey] ??
    messagesEn[fallbackKey] ??
    key;
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => {
    const value = lookup(name, params);
    return value === undefined || value === null ? '?' : String(value);
  });
}

export function parseLocale(value: string | null | undefined): Locale {
  if (!value) return 'en';
  return /^zh\b/i.test(value.trim()) ? 'zh' : 'en';
}
