-- 首保锁定 / First-service lock-in
--
-- 中文：新车卖出去以后，首保是把客户留在本店的第一次机会（来源资料："首保客户的
-- 锁定"，"抓3控6"）。本评分卡按三件事给门店打分（满分 100）：
--   1. 首保进站率（50 分）：首保期已结束的新车里，按时回店做首保的比例；
--      达到指标目录的目标（默认 95 %）得满分，80 % 及以下 0 分。
--   2. 待首保积压（25 分）：近 6 个月售出、到期末还没回过店的车，占这 6 个月新车销量
--      的比例。首保一般在第 3 个月前后，所以近 3 个月卖的车还没到时候，约一半待首保是
--      正常的；不超过 50 % 得满分，达到 80 % 得 0 分（首保在流失）。
--   3. 拟流失挽回（25 分）：期初的拟流失车辆（3–6 个月没进厂）里，到期末已经回厂的
--      比例——客服回访有没有把人叫回来。按一个月的期间定：一个月里叫回 45 % 得满分，
--      15 % 及以下 0 分（期间越长，回厂的自然越多）。
-- 没有数据的项目不计分，也不计入满分。等级：A ≥ 85，B ≥ 70，C ≥ 55，其余 D。
--
-- English: a new car's first service is the first chance to keep its customer
-- (the source documents' 首保客户的锁定). Scored out of 100 on three things:
-- the first-service rate (50 points: full at the catalogue's target, 95 % by
-- default, none at 80 %); the first services still pending, as a share of
-- the cars sold in the last 6 months (25 points: about half is normal since
-- cars sold in the last 3 months are not due yet; full up to 50 %, none at
-- 80 %); and the share of the vehicles at risk at the start of the period
-- (3-6 months without a visit) that came back by its end (25 points, set for
-- a month: full at 45 %, none at 15 %; a longer period brings more back).
-- An item without data is left out of the maximum.
-- Grades: A ≥ 85, B ≥ 70, C ≥ 55, D.

local window_months = 6       -- the first-service window (the setting retention.first_service_months)

local function number_target(id, default)
  local t = target(id)
  if type(t) == "number" then return t end
  return default
end

-- A civil-calendar day count, for the period's length.
local function day_number(date)
  local y, m, d = date:match("^(%d%d%d%d)-(%d%d)-(%d%d)$")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m <= 2 then y, m = y - 1, m + 12 end
  return 365 * y + y // 4 - y // 100 + y // 400 + (153 * (m - 3) + 2) // 5 + d
end

-- The day after the date `months` months before `date` (the window's first day).
local function window_start(date, months)
  local y, m, d = date:match("^(%d%d%d%d)-(%d%d)-(%d%d)$")
  y, m, d = tonumber(y), tonumber(m) - months, tonumber(d)
  while m < 1 do y, m = y - 1, m + 12 end
  local dim = ({ 31, (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) and 29 or 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 })[m]
  if d > dim then d = dim end
  d = d + 1
  if d > dim then d, m = 1, m + 1 end
  if m > 12 then y, m = y + 1, 1 end
  return string.format("%04d-%02d-%02d", y, m, d)
end

local rate = kpi("retention.first_service_rate")
local pending = kpi("retention.first_service_pending")
local sold = kpi("sales.units", { from = window_start(period.to, window_months), to = period.to })

-- The vehicles at risk as the period starts, and those of them still out of
-- the workshop at its end: at risk or in the warning band then, or (after
-- more than the 3 months from the warning band to lost) lost.
local still_out = { "retention.at_risk", "retention.warning" }
if day_number(period.to) - day_number(period.from) >= 90 then still_out[#still_out + 1] = "retention.lost" end
local came_back = {}
for _, s in ipairs(stores()) do
  local start = {}
  local n = 0
  for _, v in ipairs(list("retention.at_risk", { to = period.from, stores = { s.code }, limit = 10000 })) do
    start[v.vin] = true
    n = n + 1
  end
  if n > 0 then
    local still = 0
    for _, id in ipairs(still_out) do
      for _, v in ipairs(list(id, { stores = { s.code }, limit = 10000 })) do
        if start[v.vin] then
          still = still + 1
          start[v.vin] = nil
        end
      end
    end
    came_back[s.code] = (n - still) / n
  end
end

local items = {
  { id = "retention.first_service_rate", weight = 50, score = "at_least",
    good = number_target("retention.first_service_rate", 0.95), bad = 0.80, unit = "ratio",
    label = { zh = "首保进站率", en = "First service rate" } },
  { id = "lockin.pending_share", weight = 25, score = "at_most", good = 0.50, bad = 0.80, unit = "ratio",
    label = { zh = "待首保占近6月新车", en = "Pending first services / cars sold in 6 months" } },
  { id = "lockin.came_back", weight = 25, score = "at_least", good = 0.45, bad = 0.15, unit = "ratio",
    label = { zh = "期初拟流失回厂率", en = "At-risk vehicles that came back" } },
}

local rows = {}
for _, s in ipairs(stores()) do
  local values = {
    ["retention.first_service_rate"] = rate[s.code],
    ["lockin.pending_share"] = ratio(pending[s.code], sold[s.code]),
    ["lockin.came_back"] = came_back[s.code],
  }
  local row_items, earned, possible = {}, 0, 0
  for _, item in ipairs(items) do
    local v = values[item.id]
    local points
    if item.score == "at_least" then points = at_least(v, item.good, item.bad, item.weight)
    else points = at_most(v, item.good, item.bad, item.weight) end
    if points ~= nil then
      points = math.floor(points * 10 + 0.5) / 10
      earned, possible = earned + points, possible + item.weight
    end
    -- kpi: the catalogue id, or this card's own name of a measure it works out (with its label)
    row_items[#row_items + 1] = { kpi = item.id, label = item.label, unit = item.unit,
                                  value = v, points = points, max = item.weight }
  end
  if possible > 0 then
    local score = math.floor(1000 * earned / possible + 0.5) / 10
    rows[#rows + 1] = { store = s.code, name = s.name, score = score, items = row_items,
                        grade = score >= 85 and "A" or score >= 70 and "B" or score >= 55 and "C" or "D" }
  else
    log(s.code .. " " .. s.name .. ": 本期没有首保和拟流失数据 / no first-service or at-risk data in the period")
  end
end
return rows
