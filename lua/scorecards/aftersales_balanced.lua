-- 售后综合评分 / After-sales balanced scorecard
--
-- 中文：按售后的每个方面给门店打分（满分 100），共 12 项：进厂频次、售后吸收率、
-- 工时产值占比、人工成本率、滞销库存、续保率、180 天以上应收、一/二/三年流失率、
-- 首保进站率、满意度。每项在"好"的水平得满分，在"差"的水平得 0 分，中间按比例；
-- 好、差两个水平来自指标目录的目标（管理员可在设置中修改）和来源资料（见下面每项
-- 的注释），不是按本集团门店的分布定的，所以门店之间能拉开差距。没有数据的项目
-- 不计分，也不计入满分（得分按有数据的项目折算）。等级：A ≥ 85，B ≥ 70，C ≥ 55，其余 D。
--
-- English: scores every after-sales domain, 12 items out of 100: visits per
-- vehicle, absorption, labour share, personnel cost, slow-moving stock,
-- insurance renewal, receivables aged past 180 days, churn in years 1-3,
-- first service and CSI. Each item earns full points at a good level and
-- none at a bad level, linearly between; the levels come from the KPI
-- catalogue's targets (settings may change them) and the source documents
-- (see each item), not from the group's own spread, so stores spread out.
-- An item without data earns nothing and is left out of the maximum.
-- Grades: A ≥ 85, B ≥ 70, C ≥ 55, D.

-- A catalogue target if it is a number (else the documents' level).
local function number_target(id, default)
  local t = target(id)
  if type(t) == "number" then return t end
  return default
end
local function band_target(id, low, high)
  local t = target(id)
  if type(t) == "table" and t.low and t.high then return t.low, t.high end
  return low, high
end

-- Days in the period, for per-year rates (a civil-calendar day count).
local function day_number(date)
  local y, m, d = date:match("^(%d%d%d%d)-(%d%d)-(%d%d)$")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m <= 2 then y, m = y - 1, m + 12 end
  return 365 * y + y // 4 - y // 100 + y // 400 + (153 * (m - 3) + 2) // 5 + d
end
local years = (day_number(period.to) - day_number(period.from) + 1) / 365

local personnel_low, personnel_high = band_target("service.personnel_cost_ratio", 0.10, 0.12)
local churn_good = {
  number_target("retention.churn_y1", 0.05),
  number_target("retention.churn_y2", 0.08),
  number_target("retention.churn_y3", 0.12),
}

-- The items: weight, how to score, and where the good and bad levels come from.
local items = {
  -- 进厂频次: ROs a year per vehicle of the customer base. Documents: "前几年平均一辆车
  -- 一年进厂三次以上，现在一辆车一年进厂一次" -> good 3, bad 1.
  { id = "service.visits_per_vehicle", label = { zh = "年均进厂次数", en = "Visits per vehicle a year" },
    unit = "times/yr", weight = 8, score = "at_least", good = 3.0, bad = 1.0 },
  -- 售后吸收率 (after-sales gross profit / fixed expenses): catalogue ≥ 1.0;
  -- bad at 0.7 (less than 70 % of fixed costs covered).
  { id = "service.absorption", weight = 6, score = "at_least",
    good = number_target("service.absorption", 1.0), bad = 0.7 },
  -- 工时产值占比: catalogue ≥ 30 %; documents: ordinary garages about 20 % -> bad 0.20.
  { id = "labour.share", weight = 14, score = "at_least",
    good = number_target("labour.share", 0.30), bad = 0.20 },
  -- 人工成本率: catalogue 10-12 %; documents: "过低员工流失大 ... 过高企业费用高";
  -- nothing at 3 points outside the band (7 % / 15 %).
  { id = "service.personnel_cost_ratio", weight = 6, score = "band",
    low = personnel_low, high = personnel_high, bad_low = personnel_low - 0.03, bad_high = personnel_high + 0.03 },
  -- 滞销库存比例 (stock not issued for 180 days): good at the catalogue's
  -- obsolete-stock limit (< 5 %), bad at three times it (15 %).
  { id = "parts.slow_moving_share", weight = 14, score = "at_most",
    good = number_target("parts.obsolete_share", 0.05), bad = 3 * number_target("parts.obsolete_share", 0.05) },
  -- 续保率: good at 65 % (the industry reference the dashboards use), bad at 40 %.
  { id = "insurance.renewal_rate", weight = 14, score = "at_least", good = 0.65, bad = 0.40 },
  -- 180 天以上应收占比: the catalogue's target for 坏账 and 死账 is 0; documents:
  -- "超过6个月未收账款都成为坏账", "基本上90%的企业事业单位维修都会欠款" (some
  -- aged debt is normal) -> good 0, bad when a fifth of what is open is bad debt.
  { id = "receivables.over_180_share", label = { zh = "180天以上应收占比", en = "Receivables aged over 180 days" },
    unit = "ratio", weight = 14, score = "at_most", good = 0, bad = 0.20 },
  -- 一/二/三年流失率: catalogue (documents) < 5 %, 8 %, 12 %; bad at twice the limit.
  { id = "retention.churn_y1", weight = 4, score = "at_most", good = churn_good[1], bad = 2 * churn_good[1] },
  { id = "retention.churn_y2", weight = 4, score = "at_most", good = churn_good[2], bad = 2 * churn_good[2] },
  { id = "retention.churn_y3", weight = 4, score = "at_most", good = churn_good[3], bad = 2 * churn_good[3] },
  -- 首保进站率: catalogue ≥ 95 %; bad at 70 % (three new cars in ten never come back).
  { id = "retention.first_service_rate", weight = 6, score = "at_least",
    good = number_target("retention.first_service_rate", 0.95), bad = 0.70 },
  -- 满意度 (0-10, SERVQUAL weights of the documents): good 9.0, bad 7.0.
  { id = "csi.score", weight = 6, score = "at_least", good = 9.0, bad = 7.0 },
}

-- One engine lookup per KPI for all stores.
local ro_count, base = kpi("service.ro_count"), kpi("retention.base")
local open, aged_181_365, aged_over_365 =
  kpi("receivables.open"), kpi("receivables.age_181_365"), kpi("receivables.age_over_365")
local values = {}
for _, item in ipairs(items) do
  if item.id == "service.visits_per_vehicle" then
    values[item.id] = {}
    for code, n in pairs(ro_count) do values[item.id][code] = ratio(n / years, base[code]) end
  elseif item.id == "receivables.over_180_share" then
    values[item.id] = {}
    for code, amount in pairs(open) do
      local aged = (aged_181_365[code] or 0) + (aged_over_365[code] or 0)
      values[item.id][code] = amount > 0 and aged / amount or 0   -- nothing open: nothing aged
    end
  else
    values[item.id] = kpi(item.id)
  end
end

local function points_of(item, v)
  if item.score == "at_least" then return at_least(v, item.good, item.bad, item.weight) end
  if item.score == "at_most" then return at_most(v, item.good, item.bad, item.weight) end
  return band(v, item.low, item.high, item.bad_low, item.bad_high, item.weight)
end

local rows = {}
for _, s in ipairs(stores()) do
  local row_items, earned, possible = {}, 0, 0
  for _, item in ipairs(items) do
    local v = values[item.id][s.code]
    local points = points_of(item, v)          -- nil when the store has no value
    if points ~= nil then
      points = math.floor(points * 10 + 0.5) / 10
      earned, possible = earned + points, possible + item.weight
    end
    row_items[#row_items + 1] = { kpi = item.id, label = item.label, unit = item.unit,
                                  value = v, points = points, max = item.weight }
  end
  local score = possible > 0 and math.floor(1000 * earned / possible + 0.5) / 10 or 0
  local grade = score >= 85 and "A" or score >= 70 and "B" or score >= 55 and "C" or "D"
  if possible == 0 then log(s.code .. " " .. s.name .. ": 本期没有数据 / no data in the period") end
  rows[#rows + 1] = { store = s.code, name = s.name, score = score, grade = grade, items = row_items }
end
return rows
