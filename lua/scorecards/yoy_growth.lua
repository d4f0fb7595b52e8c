-- 同比增长 / Year-over-year growth
--
-- 中文：把本期与去年同期（日期各减一年）比较，计算每家门店的增长率：服务产值
-- （权重 50 %）、进厂台次（30 %）、工时收入（20 %），得分是加权增长率（百分数，可以
-- 为负）。为了不让"从几乎为零长起来"的门店排第一，有一条最低业务量规则：去年同期
-- 进厂台次不到每月 100 台（按期间的月数折算，下面的 min_ros_per_month 可以改）的门店
-- 不参加排名，写在说明里（新店、刚恢复营业的门店）。去年同期为 0 的项目不计入。
-- 等级：A ≥ 10 %，B ≥ 0 %，C ≥ −10 %，其余 D。
--
-- English: compares the period with the same period a year earlier (each
-- date minus one year): growth of service revenue (weight 50 %), RO count
-- (30 %) and labour revenue (20 %); the score is the weighted growth in
-- percent (it may be negative). A minimum-volume rule keeps a store that
-- grew from almost nothing off the top: a store with fewer than 100 ROs a
-- month a year earlier (min_ros_per_month below, pro-rated over the
-- period's months) is not ranked and is named in the log (a new store, one
-- that was closed). An item that was 0 a year earlier is left out.
-- Grades: A ≥ 10 %, B ≥ 0 %, C ≥ −10 %, D.

local min_ros_per_month = 100

-- The same day one year earlier (29 February becomes 28 February).
local function year_earlier(date)
  local y, m, d = date:match("^(%d%d%d%d)-(%d%d)-(%d%d)$")
  y = tonumber(y) - 1
  if m == "02" and d == "29" then d = "28" end
  return string.format("%04d-%s-%s", y, m, d)
end
local last_year = { from = year_earlier(period.from), to = year_earlier(period.to) }
log("对比期间 / compared with: " .. last_year.from .. " .. " .. last_year.to)

-- The period's length in months (days / 30.44), for the minimum volume.
local function day_number(date)
  local y, m, d = date:match("^(%d%d%d%d)-(%d%d)-(%d%d)$")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m <= 2 then y, m = y - 1, m + 12 end
  return 365 * y + y // 4 - y // 100 + y // 400 + (153 * (m - 3) + 2) // 5 + d
end
local months = (day_number(period.to) - day_number(period.from) + 1) / 30.44
local min_ros = min_ros_per_month * months

local measures = {
  { id = "service.revenue",  weight = 0.5, label = { zh = "服务产值同比", en = "Service revenue growth" } },
  { id = "service.ro_count", weight = 0.3, label = { zh = "进厂台次同比", en = "Repair order growth" } },
  { id = "labour.revenue",   weight = 0.2, label = { zh = "工时收入同比", en = "Labour revenue growth" } },
}
for _, m in ipairs(measures) do
  m.now = kpi(m.id)
  m.before = kpi(m.id, last_year)
end

local rows = {}
for _, s in ipairs(stores()) do
  local ros_before = measures[2].before[s.code] or 0
  local items, total, weights = {}, 0, 0
  for _, m in ipairs(measures) do
    local now, before = m.now[s.code], m.before[s.code]
    local growth = nil
    if now ~= nil and before ~= nil and before > 0 then
      growth = (now - before) / before
      total = total + m.weight * growth
      weights = weights + m.weight
    end
    -- value: the growth (a fraction); now and last_year: the KPI itself
    items[#items + 1] = { kpi = m.id, label = m.label, unit = "ratio", value = growth, now = now, last_year = before }
  end
  if ros_before < min_ros then
    log(string.format("%s %s: 去年同期只有 %d 台次，不到最低业务量 %d，不参加排名 / only %d ROs a year earlier, under the minimum of %d: not ranked",
                      s.code, s.name, ros_before, math.ceil(min_ros), ros_before, math.ceil(min_ros)))
  elseif weights > 0 then
    local score = math.floor(1000 * total / weights + 0.5) / 10   -- percent, one decimal
    rows[#rows + 1] = {
      store = s.code, name = s.name, score = score, items = items,
      grade = score >= 10 and "A" or score >= 0 and "B" or score >= -10 and "C" or "D",
    }
  else
    log(s.code .. " " .. s.name .. ": 去年同期没有数据 / no figures a year earlier")   -- only revenue of 0 a year earlier
  end
end
return rows
