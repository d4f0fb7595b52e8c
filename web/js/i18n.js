// i18n: every word the dashboards show, in Chinese (the default) and English,
// and the lookup the pages call. One table of strings per language; {name}
// in a string is filled from the call's vars. KPI names come from the
// server's catalogue ({zh, en} objects, read with localized()); store and
// region names come from the data. No other file holds a label or branches
// on the language: they call t(), locale(), moneySteps() and localized().
const LANG_KEY = 'fourscore.lang';

export const dict = {
  zh: {
    html_lang: 'zh-CN', locale: 'zh-CN',
    app: 'Fourscore 售后经营看板',
    brand: 'Fourscore',
    nav_overview: '集团总览', nav_parts: '配件', nav_insurance: '保险', nav_receivables: '应收账款',
    nav_labour: '工时', nav_retention: '客户保持', nav_scorecards: '评分卡', nav_store: '门店',
    logout: '退出登录', lang_switch: 'English', login_title: '登录', username: '用户名', password: '密码',
    login_button: '登录', login_failed: '用户名或密码不正确', login_limited: '尝试次数过多，请 {s} 秒后再试',
    period: '期间', month: '月', quarter: '季度', year: '年', custom: '自定义', apply: '确定',
    quarter_option: '{y} Q{q}',
    loading: '加载中…', error: '出错了', http_status: 'HTTP {status}',
    unknown_page: '没有这个页面：{name}',
    vs_prev: '环比', vs_yoy: '同比', target: '目标', group: '集团', region: '区域', store: '门店',
    region_compare: '区域对比', league: '门店排行', league_hint: '点击表头排序，点击门店查看详情',
    brand_col: '品牌', export_csv: '导出 CSV', export_xlsx: '导出 Excel',
    back_group: '返回集团', trend_24: '近 24 个月趋势',
    panel_labour: '工时', panel_parts: '配件', panel_insurance: '保险', panel_receivables: '应收账款',
    panel_retention: '客户保持', panel_csi: '客户满意度', panel_service: '售后经营',
    aging_by_store: '账龄结构（按门店）', over_limit: '超额度客户', overdue: '逾期金额',
    stock_aging: '库存账龄', turnover_fill: '周转率与一次满足率', by_insurer: '按保险公司',
    stock_fresh: '{slow} 天内', stock_slow: '滞销 {slow}–{obsolete} 天', stock_obsolete: '呆滞 {obsolete} 天以上',
    repair_to_premium_insurer: '各保险公司送修比例', insurer_split: '续保分配',
    buckets_369: '{at_risk}-{warning}-{lost} 流失分层', churn_by_age: '按车龄流失率', first_service: '首保进站率',
    labour_rates: '有效工时单价与技师效率', hours_per_ro: '单车工时',
    scorecards: '评分卡', pick_scorecard: '选择评分卡', run: '运行', rank: '排名', score: '得分',
    grade: '等级', points: '分', ranking: '排名结果', item_points: '各门店得分构成',
    editor: '编辑器', name: '名称', check: '检查', try_run: '试运行',
    save: '保存', saved: '已保存', check_ok: '语法正确', line: '第 {n} 行', run_log: '运行日志',
    elapsed: '耗时 {ms} 毫秒', forbidden: '无权访问该数据', session_expired: '登录已过期，请重新登录',
    good: '达标', warn: '接近', bad: '未达标', value: '数值',
    role_admin: '管理员', role_executive: '集团高管', role_regional_manager: '区域经理', role_store_manager: '门店经理',
    // a value in its unit ({v} the formatted number)
    unit_cny_per_h: '{v}元/小时', unit_h: '{v}小时', unit_days: '{v}天', unit_times_yr: '{v}次/年', pct_points: '{v}个百分点',
    nav_service: '售后经营', nav_csi: '客户满意度', nav_my_store: '我的门店', nav_region_overview: '区域总览',
    menu: '菜单', all_regions: '全部区域', list_sep: '、',
    year_option: '{y}年', month_1: '1月', month_2: '2月', month_3: '3月', month_4: '4月', month_5: '5月', month_6: '6月',
    month_7: '7月', month_8: '8月', month_9: '9月', month_10: '10月', month_11: '11月', month_12: '12月',
    date_placeholder: '年-月-日', date_from: '开始日期', date_to: '结束日期',
    date_invalid: '请输入有效日期，如 2026-09-30', date_order: '结束日期不能早于开始日期',
    export_pdf: '导出 PDF', export_pdf_hint: '打印或另存为 PDF（A4 横向）', data_as_of: '数据截至 {d}',
    region_overview: '{name}区域总览', store_compare: '门店对比', trend_12: '近 12 个月趋势',
    last_year_series: '{name}（去年）', this_period: '本期', open_domain: '查看{name}明细',
    benchmark_title: '与集团对比（中位数、前四分位）',
    budget_series: '月度目标', bench_kpi: '指标', bench_standing: '对比', bench_per_store: '（店均 {v}）',
    bench_standing_top: '达到前四分位', bench_standing_above: '优于中位数', bench_standing_below: '不及中位数',
    bench_too_few: '门店不足 5 家，无基准',
    bench_none: '有数据的门店不足 5 家，本期没有集团基准。',
    bench_region_legend: '中位数与前四分位取集团全部门店的门店值（越低越好的指标取较低的四分位）；产值、台次按本区域店均对比。',
    receivables_trend: '应收账款', retention_trend: '客户流失', csi_dimensions: '满意度各维度',
    revenue_volume: '产值与台次', service_quality: '返修与投诉', service_contact: '预约与回访',
    // lists (list.html, and the counts that open them)
    list_title: '名单', all_stores: '全部门店', list_all_of: '{name}全部门店', list_selected_stores: '所选门店（{n}家）',
    list_as_of: '截至 {d}', list_total: '共 {n} 条', list_sum: '{name}合计 {v}', list_phones_masked: '电话号码已部分隐藏',
    list_first: '首页', list_prev: '上一页', list_next: '下一页', list_last: '末页', list_page: '第 {p} / {n} 页',
    list_rows: '第 {a}–{b} 条', list_page_size: '每页', list_sort_hint: '点击表头排序，再次点击反向排序',
    list_empty: '没有符合条件的记录', list_unknown: '没有这个名单：{id}', list_export_hint: '导出整份名单（{n} 条）',
    yes: '是', no: '否', open_list: '查看名单：{name}', lists_panel: '待跟进名单', lists_panel_hint: '点击数字查看明细名单，可按门店筛选并导出',
    // scorecards page and editor
    item_cell: '{v} · {p}分', item_points_title: '{name}（分）', grade_distribution: '等级分布', no_grade: '无等级',
    stores_n: '{n} 家', versions: '历史版本', version_line: '第 {n} 版 · {at} · {by}', restore: '恢复',
    restored: '已恢复第 {n} 版（另存为新版本）', copy_suffix: '（我的副本）', copy_mine: '复制为我的评分卡', edit: '编辑',
    copied: '已把 {name} 复制到编辑器，名称为 {mine}：修改后点"试运行"查看结果，满意再"保存"。',
    tried: '试运行完成（未保存），结果见上方。', bad_name: '名称只能用小写字母、数字、_ 和 -，最长 64 个字符（不能用 run）',
    unit_of: '单位：{u}', insert_kpi: '插入指标…', insert_setting: '插入设置值…', insert_helper: '插入评分函数…',
    editor_hint: '先"复制为我的评分卡"，再改权重或加一项；"检查"只看语法，"试运行"按本期数据运行但不保存，"保存"会留一个可恢复的版本。',
    snippet_at_least: '越高越好（达到好水平满分，差水平 0 分）', snippet_at_most: '越低越好（不超过好水平满分，达到差水平 0 分）',
    snippet_band: '区间最好（区间内满分，到差的边界 0 分）', snippet_ratio: '安全除法（分母为 0 时为 nil）',
    snippet_target: '指标目录的目标值', snippet_benchmark: '集团四分位（对标）', snippet_budget: '门店本期预算',
    snippet_item: '评分项（售后综合评分的写法）', snippet_loop: '逐家门店',
    unit_name_count: '个数', unit_name_cny: '元', unit_name_ratio: '比例（%）', unit_name_cny_h: '元/小时', unit_name_h: '小时',
    unit_name_times_yr: '次/年', unit_name_days: '天', unit_name_score: '分（10 分制）', unit_name_none: '无',
    money_yi: '{v}亿', money_wan: '{v}万', money_yuan: '{v}元',
    // how far the data goes, a period past it, the daily report, benchmarks
    nav_daily: '日报表', data_through: '数据截至 {d}', data_none: '尚无数据', stores_behind: '{n} 家门店数据未更新到 {d}：',
    period_incomplete: '数据截至 {d}，本期未完', period_no_data: '本期尚无数据（数据截至 {d}）', period_no_data_none: '本期尚无数据',
    store_through: '数据截至 {d}', store_no_data: '无数据', no_compare: '无可比数据', compare_days: '对比期按相同的 {n} 天计算',
    card_achievement: '目标 {t} · 达成 {p}', daily_day: '报表日期', daily_hint: '本月已过 {e}/{n} 天（{p}）。月末预测 = 累计 ÷ {e} 天 × {n} 天；月末预测低于月目标的门店标为 ▼ 落后。',
    daily_total: '{name}合计', daily_status: '进度', daily_behind: '▼ 落后', daily_on_pace: '✓ 正常', daily_no_target: '未设目标',
    daily_through: '数据截至', daily_ro: '台次', daily_revenue: '产值', daily_to_date: '{m}累计', daily_target_to_date: '{m}目标（至今）',
    daily_achievement: '{m}达成率', daily_projection: '{m}月末预测', daily_month_target: '{m}月目标', daily_on_day: '{m}（{d}）',
    daily_table: '目标达成——车、钱日报表', freshness_title: '各门店数据更新情况', freshness_hint: '每类数据的最新日期与最近一次导入时间',
    fresh_repair_orders: '工单', fresh_vehicle_sales: '新车销售', fresh_insurance_policies: '保单', fresh_invoices: '发票',
    fresh_payments: '收款', fresh_parts_stock: '配件库存', fresh_follow_up_calls: '回访', fresh_csi_surveys: '满意度调查',
    fresh_appointments: '预约', fresh_store_financials: '门店费用', fresh_imported: '导入于 {t}',
    bench_median: '集团中位数', bench_top: '集团前四分位', bench_legend: '中 = 集团中位数，优 = 集团前四分位（越低越好的指标取较低的四分位）',
    bench_off: '管理员已关闭集团对比', bench_short_median: '中 {v}', bench_short_top: '优 {v}',
    // sales, staff, the RO split and the five SERVQUAL dimensions
    nav_sales: '新车销售', panel_sales: '销售', panel_staff: '人员',
    ro_split_mech: '机电', ro_split_body: '钣喷',
    ro_mix: '机电与钣喷台次、平均在厂时长', sales_volume: '销量与销售额', sales_conversion: '转介绍与新保渗透',
    servqual_store: '满意度五维：本店与集团中位数', servqual_scope: '满意度五维：{name}与集团中位数',
  },
  en: {
    html_lang: 'en', locale: 'en-US',
    app: 'Fourscore after-sales dashboards',
    brand: 'Fourscore',
    nav_overview: 'Group overview', nav_parts: 'Parts', nav_insurance: 'Insurance', nav_receivables: 'Receivables',
    nav_labour: 'Labour', nav_retention: 'Retention', nav_scorecards: 'Scorecards', nav_store: 'Store',
    logout: 'Log out', lang_switch: '中文', login_title: 'Log in', username: 'User name', password: 'Password',
    login_button: 'Log in', login_failed: 'Wrong user name or password', login_limited: 'Too many attempts: try again in {s} s',
    period: 'Period', month: 'Month', quarter: 'Quarter', year: 'Year', custom: 'Custom', apply: 'Apply',
    quarter_option: '{y} Q{q}',
    loading: 'Loading…', error: 'Error', http_status: 'HTTP {status}',
    unknown_page: 'No such page: {name}',
    vs_prev: 'vs prev.', vs_yoy: 'vs last year', target: 'Target', group: 'Group', region: 'Region', store: 'Store',
    region_compare: 'Regions compared', league: 'Store league table', league_hint: 'Click a heading to sort, a store to open it',
    brand_col: 'Brand', export_csv: 'Export CSV', export_xlsx: 'Export Excel',
    back_group: 'Back to group', trend_24: 'Last 24 months',
    panel_labour: 'Labour', panel_parts: 'Parts', panel_insurance: 'Insurance', panel_receivables: 'Receivables',
    panel_retention: 'Retention', panel_csi: 'Customer satisfaction', panel_service: 'After-sales',
    aging_by_store: 'Aging by store', over_limit: 'Customers over limit', overdue: 'Overdue',
    stock_aging: 'Stock aging', turnover_fill: 'Turnover and fill rate', by_insurer: 'By insurer',
    stock_fresh: 'Within {slow} days', stock_slow: 'Slow {slow}–{obsolete} days', stock_obsolete: 'Obsolete over {obsolete} days',
    repair_to_premium_insurer: 'Repair-to-premium by insurer', insurer_split: 'Renewal split',
    buckets_369: '{at_risk}-{warning}-{lost} month buckets', churn_by_age: 'Churn by vehicle age', first_service: 'First service rate',
    labour_rates: 'Effective rate and efficiency', hours_per_ro: 'Hours per RO',
    scorecards: 'Scorecards', pick_scorecard: 'Scorecard', run: 'Run', rank: 'Rank', score: 'Score',
    grade: 'Grade', points: 'pts', ranking: 'Ranking', item_points: 'Points by item',
    editor: 'Editor', name: 'Name', check: 'Check', try_run: 'Try',
    save: 'Save', saved: 'Saved', check_ok: 'No syntax errors', line: 'line {n}', run_log: 'Run log',
    elapsed: '{ms} ms', forbidden: 'You may not see these figures', session_expired: 'Your session expired: log in again',
    good: 'on target', warn: 'close', bad: 'off target', value: 'Value',
    role_admin: 'Administrator', role_executive: 'Executive', role_regional_manager: 'Regional manager', role_store_manager: 'Store manager',
    unit_cny_per_h: '{v} CNY/h', unit_h: '{v} h', unit_days: '{v} days', unit_times_yr: '{v}×/yr', pct_points: '{v} pts',
    nav_service: 'After-sales', nav_csi: 'Satisfaction', nav_my_store: 'My store', nav_region_overview: 'Region overview',
    menu: 'Menu', all_regions: 'All regions', list_sep: ', ',
    year_option: '{y}', month_1: 'Jan', month_2: 'Feb', month_3: 'Mar', month_4: 'Apr', month_5: 'May', month_6: 'Jun',
    month_7: 'Jul', month_8: 'Aug', month_9: 'Sep', month_10: 'Oct', month_11: 'Nov', month_12: 'Dec',
    date_placeholder: 'YYYY-MM-DD', date_from: 'From', date_to: 'To',
    date_invalid: 'Enter a date such as 2026-09-30', date_order: 'The end comes before the start',
    export_pdf: 'Export PDF', export_pdf_hint: 'Print or save as PDF (A4 landscape)', data_as_of: 'Data to {d}',
    region_overview: '{name} region overview', store_compare: 'Stores compared', trend_12: 'Last 12 months',
    last_year_series: '{name} (last year)', this_period: 'This period', open_domain: 'Open {name}',
    benchmark_title: 'Against the group (median, top quartile)',
    budget_series: 'Monthly target', bench_kpi: 'KPI', bench_standing: 'Standing', bench_per_store: '({v}/store)',
    bench_standing_top: 'top quartile', bench_standing_above: 'at the median or better', bench_standing_below: 'short of the median',
    bench_too_few: 'under 5 stores, no benchmark',
    bench_none: 'Fewer than 5 stores have data: no group benchmarks for this period.',
    bench_region_legend: 'Median and top quartile of the values of every store of the group (the lower quartile where lower is better); revenue and RO count compared per store of the region.',
    receivables_trend: 'Receivables', retention_trend: 'Customers lost', csi_dimensions: 'Satisfaction by dimension',
    revenue_volume: 'Revenue and volume', service_quality: 'Comebacks and complaints', service_contact: 'Appointments and follow-up',
    list_title: 'List', all_stores: 'All stores', list_all_of: 'All stores of {name}', list_selected_stores: 'Selected stores ({n})',
    list_as_of: 'As of {d}', list_total: '{n} rows', list_sum: 'Total {name}: {v}', list_phones_masked: 'Phone numbers partly hidden',
    list_first: 'First', list_prev: 'Previous', list_next: 'Next', list_last: 'Last', list_page: 'Page {p} of {n}',
    list_rows: 'Rows {a}–{b}', list_page_size: 'Per page', list_sort_hint: 'Click a heading to sort, again to reverse',
    list_empty: 'No rows', list_unknown: 'No such list: {id}', list_export_hint: 'Export the whole list ({n} rows)',
    yes: 'Yes', no: 'No', open_list: 'Open the list: {name}', lists_panel: 'Lists to follow up', lists_panel_hint: 'Click a number to open its list, filter it by store and export it',
    // scorecards page and editor
    item_cell: '{v} · {p} pts', item_points_title: '{name} (pts)', grade_distribution: 'Grades', no_grade: 'No grade',
    stores_n: '{n} stores', versions: 'Versions', version_line: 'version {n} · {at} · {by}', restore: 'Restore',
    restored: 'Version {n} restored (saved as a new version)', copy_suffix: '(my copy)', copy_mine: 'Copy into my own', edit: 'Edit',
    copied: '{name} is in the editor as {mine}: change it, press Try to see the result, then Save.',
    tried: 'Tried (not saved): the result is above.', bad_name: 'A name is lower-case letters, digits, _ and -, at most 64 characters (not run)',
    unit_of: 'unit: {u}', insert_kpi: 'Insert a KPI…', insert_setting: 'Insert a setting…', insert_helper: 'Insert a scoring helper…',
    editor_hint: 'Copy a scorecard into your own first, then change a weight or add an item; Check only parses, Try runs it on the period without saving, Save keeps a version you can restore.',
    snippet_at_least: 'higher is better (full at good, none at bad)', snippet_at_most: 'lower is better (full up to good, none at bad)',
    snippet_band: 'best inside a range (none at the bad edges)', snippet_ratio: 'safe division (nil when dividing by 0)',
    snippet_target: 'the catalogue target', snippet_benchmark: 'the group quartiles', snippet_budget: 'the store\'s budget',
    snippet_item: 'an item (as aftersales_balanced writes them)', snippet_loop: 'store by store',
    unit_name_count: 'count', unit_name_cny: 'CNY', unit_name_ratio: 'ratio (%)', unit_name_cny_h: 'CNY/h', unit_name_h: 'hours',
    unit_name_times_yr: 'times a year', unit_name_days: 'days', unit_name_score: 'score (of 10)', unit_name_none: 'none',
    money_b: '¥{v}B', money_m: '¥{v}M', money_k: '¥{v}k', money_yuan: '¥{v}',
    nav_daily: 'Daily report', data_through: 'Data to {d}', data_none: 'No data yet', stores_behind: '{n} stores have no data to {d}: ',
    period_incomplete: 'Data to {d}: the period is not complete', period_no_data: 'No data for this period yet (data to {d})', period_no_data_none: 'No data for this period yet',
    store_through: 'data to {d}', store_no_data: 'no data', no_compare: 'nothing to compare', compare_days: 'changes compare the same {n} days',
    card_achievement: 'Target {t} · {p} achieved', daily_day: 'Report day', daily_hint: '{e} of {n} days of the month gone ({p}). Month-end projection = to date ÷ {e} days × {n} days; a store projected below its month target is marked ▼ behind.',
    daily_total: '{name} total', daily_status: 'Pace', daily_behind: '▼ behind', daily_on_pace: '✓ on pace', daily_no_target: 'no target',
    daily_through: 'Data to', daily_ro: 'ROs', daily_revenue: 'Revenue', daily_to_date: '{m} to date', daily_target_to_date: '{m} target to date',
    daily_achievement: '{m} achieved', daily_projection: '{m} month-end projection', daily_month_target: '{m} month target', daily_on_day: '{m} ({d})',
    daily_table: 'Targets to date: ROs and revenue', freshness_title: 'How far each store\'s data goes', freshness_hint: 'Latest date of each kind of data, and when it was last imported',
    fresh_repair_orders: 'ROs', fresh_vehicle_sales: 'Car sales', fresh_insurance_policies: 'Policies', fresh_invoices: 'Invoices',
    fresh_payments: 'Payments', fresh_parts_stock: 'Parts stock', fresh_follow_up_calls: 'Follow-up calls', fresh_csi_surveys: 'CSI surveys',
    fresh_appointments: 'Appointments', fresh_store_financials: 'Store costs', fresh_imported: 'imported {t}',
    bench_median: 'Group median', bench_top: 'Group top quartile', bench_legend: 'med = group median, top = group top quartile (the lower quartile for KPIs where lower is better)',
    bench_off: 'An administrator has switched the group comparison off', bench_short_median: 'med {v}', bench_short_top: 'top {v}',
    nav_sales: 'Car sales', panel_sales: 'Sales', panel_staff: 'Staff',
    ro_split_mech: 'mechanical', ro_split_body: 'bodywork',
    ro_mix: 'Mechanical and bodywork ROs, time in the workshop', sales_volume: 'Units and sales revenue', sales_conversion: 'Referrals and new-car insurance',
    servqual_store: 'The five SERVQUAL dimensions: this store and the group median', servqual_scope: 'The five SERVQUAL dimensions: {name} and the group median',
  },
};

// How money is shortened: the first step whose `from` the absolute value
// reaches; the value is divided by `div` and shown with `digits` decimals
// (the last step, div 1, rounds to whole yuan with the locale's grouping).
export const MONEY_STEPS = {
  zh: [{ from: 1e8, div: 1e8, digits: 2, key: 'money_yi' }, { from: 1e4, div: 1e4, digits: 1, key: 'money_wan' },
    { from: 0, div: 1, digits: 0, key: 'money_yuan' }],
  en: [{ from: 1e9, div: 1e9, digits: 2, key: 'money_b' }, { from: 1e6, div: 1e6, digits: 2, key: 'money_m' },
    { from: 1e4, div: 1e3, digits: 1, key: 'money_k' }, { from: 0, div: 1, digits: 0, key: 'money_yuan' }],
};

export function lang() { return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh'; }
export function setLang(l) { localStorage.setItem(LANG_KEY, l in dict ? l : 'zh'); location.reload(); }
// The language switch: Chinese ↔ English.
export function toggleLang() { setLang(lang() === 'zh' ? 'en' : 'zh'); }

// The string `key` in the current language (Chinese if English lacks it,
// the key itself if neither has it), with {name} filled from vars.
export function t(key, vars = {}) {
  let s = dict[lang()][key] ?? dict.zh[key] ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}
export const locale = () => dict[lang()].locale;
export const htmlLang = () => dict[lang()].html_lang;
export const moneySteps = () => MONEY_STEPS[lang()];
// A {zh, en} object from the server (a KPI's or a setting's name) in the current language.
export function localized(names, fallback = '') { return names?.[lang()] || names?.zh || fallback; }
// A store's, a region's or an insurer's name from the data (Chinese): in English it is
// followed by its code, which an English reader can say and search for.
const CJK = /[\u2e80-\u9fff\uf900-\ufaff]/u;
export function placeName(name, code) {
  if (!name) return code || '';
  return lang() === 'en' && code && CJK.test(name) && name !== code ? `${name} (${code})` : name;
}
