-- 售后综合评分 / After-sales balanced scorecard
--
-- 中文：按来源资料的售后目标给每家门店打分（满分 100）：工时产值占比 ≥ 30 %，
-- 一/二/三年车龄流失率分别低于 5 %/8 %/12 %，首保进站率 ≥ 95 %，人工成本率
-- 10–12 %，钣喷辅料成本率接近 18 %，应收账款没有超过 180 天的账龄，续保率，
-- 客户满意度。没有数据的项目不计分，也不计入满分（得分按有数据的项目折算）。
-- 等级：A ≥ 85，B ≥ 70，C ≥ 55，其余 D。
--
-- English: scores every store out of 100 against the after-sales targets of
-- the source documents: labour share ≥ 30 %, churn under 5/8/12 % by vehicle
-- age, first service ≥ 95 %, personnel cost 10–12 %, materials near 18 %,
-- nothing aged past 180 days in receivables, insurance renewal and CSI. An
-- item without data earns nothing and is left out of the maximum (the score
-- is scaled over the items that have data). Grades: A ≥ 85, B ≥ 70, C ≥ 55, D.

-- Targets: the catalogue's (settings may change them), else the documents'.
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

local labour_target = number_target("labour.share", 0.30)
local churn_limit = {
  number_target("retention.churn_y1", 0.05),
  number_target("retention.churn_y2", 0.08),
  number_target("retention.churn_y3", 0.12),
}
local first_service_target = number_target("retention.first_service_rate", 0.95)
local personnel_low, personnel_high = band_target("service.personnel_cost_ratio", 0.10, 0.12)
local materials_target = number_target("parts.materials_cost_ratio", 0.18)
local renewal_reference = number_target("insurance.renewal_rate", 0.65)  -- industry reference
local csi_reference = number_target("csi.score", 8.5)                     -- on the 0-10 scale

-- Ways to turn a value into points (max = the item's weight).
local function at_least(v, goal, max)          -- higher is better, full at the goal
  if v >= goal then return max end
  return max * math.max(v, 0) / goal
end
local function at_most(v, limit, max)          -- lower is better, nothing at twice the limit
  if v <= limit then return max end
  return max * math.max(0, 1 - (v - limit) / limit)
end
local function within(v, low, high, max)       -- full inside the band, nothing a band-width away
  local width = high - low
  if v >= low and v <= high then return max end
  local off = v < low and low - v or v - high
  return max * math.max(0, 1 - off / width)
end
local function near(v, goal, tolerance, max)   -- full within 2 points of the goal, nothing past tolerance
  local off = math.abs(v - goal)
  if off <= 0.02 then return max end
  return max * math.max(0, 1 - (off - 0.02) / tolerance)
end

-- One engine lookup per KPI for all stores.
local labour = kpi("labour.share")
local churn = { kpi("retention.churn_y1"), kpi("retention.churn_y2"), kpi("retention.churn_y3") }
local first_service = kpi("retention.first_service_rate")
local personnel = kpi("service.personnel_cost_ratio")
local materials = kpi("parts.materials_cost_ratio")
local open = kpi("receivables.open")
local aged_181_365 = kpi("receivables.age_181_365")
local aged_over_365 = kpi("receivables.age_over_365")
local renewal = kpi("insurance.renewal_rate")
local csi = kpi("csi.score")

local rows = {}
for _, s in ipairs(stores()) do
  local items, earned, possible = {}, 0, 0
  local function add(id, value, max, scorer, ...)
    local points = nil
    if value ~= nil then
      points = scorer(value, ...)
      earned = earned + points
      possible = possible + max
    end
    items[#items + 1] = { kpi = id, value = value, points = points, max = max }
  end

  add("labour.share", labour[s.code], 15, function(v) return at_least(v, labour_target, 15) end)
  for age = 1, 3 do
    add("retention.churn_y" .. age, churn[age][s.code], 5, function(v) return at_most(v, churn_limit[age], 5) end)
  end
  add("retention.first_service_rate", first_service[s.code], 15, function(v) return at_least(v, first_service_target, 15) end)
  add("service.personnel_cost_ratio", personnel[s.code], 10, function(v) return within(v, personnel_low, personnel_high, 10) end)
  add("parts.materials_cost_ratio", materials[s.code], 10, function(v) return near(v, materials_target, 0.08, 10) end)
  -- receivables aged past 180 days, as a share of what is open: full marks at 0, nothing at 5 %
  local aged = nil
  if open[s.code] ~= nil then
    local amount = (aged_181_365[s.code] or 0) + (aged_over_365[s.code] or 0)
    aged = open[s.code] > 0 and amount / open[s.code] or 0
  end
  add("receivables.over_180_share", aged, 10, function(v) return at_most(v, 0, 10) end)
  add("insurance.renewal_rate", renewal[s.code], 10, function(v) return at_least(v, renewal_reference, 10) end)
  add("csi.score", csi[s.code], 10, function(v) return at_least(v, csi_reference, 10) end)

  local score = possible > 0 and 100 * earned / possible or 0
  score = math.floor(score * 10 + 0.5) / 10
  local grade = score >= 85 and "A" or score >= 70 and "B" or score >= 55 and "C" or "D"
  if possible == 0 then log(s.code .. " " .. s.name .. ": 本期没有数据 / no data in the period") end
  rows[#rows + 1] = { store = s.code, name = s.name, score = score, grade = grade, items = items }
end
return rows
