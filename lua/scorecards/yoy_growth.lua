-- 同比增长 / Year-over-year growth
--
-- 中文：把本期与去年同期（日期各减一年）比较，计算每家门店的增长率：
-- 服务产值（权重 50 %）、进厂台次（30 %）、工时收入（20 %）。得分是加权
-- 增长率（百分数，可以为负）；去年同期没有数据的项目不计入。等级：
-- A ≥ 10 %，B ≥ 0 %，C ≥ −10 %，其余 D。
--
-- English: compares the period with the same period a year earlier (each
-- date minus one year) and computes each store's growth in service revenue
-- (weight 50 %), RO count (30 %) and labour revenue (20 %). The score is the
-- weighted growth in percent (it may be negative); an item with no figure a
-- year earlier is left out. Grades: A ≥ 10 %, B ≥ 0 %, C ≥ −10 %, D.

-- The same day one year earlier (29 February becomes 28 February).
local function year_earlier(date)
  local y, m, d = date:match("^(%d%d%d%d)-(%d%d)-(%d%d)$")
  y = tonumber(y) - 1
  if m == "02" and d == "29" then d = "28" end
  return string.format("%04d-%s-%s", y, m, d)
end
local last_year = { from = year_earlier(period.from), to = year_earlier(period.to) }
log("对比期间 / compared with: " .. last_year.from .. " .. " .. last_year.to)

local measures = {
  { id = "service.revenue",  weight = 0.5 },
  { id = "service.ro_count", weight = 0.3 },
  { id = "labour.revenue",   weight = 0.2 },
}
for _, m in ipairs(measures) do
  m.now = kpi(m.id)
  m.before = kpi(m.id, last_year)
end

local rows = {}
for _, s in ipairs(stores()) do
  local items, total, weights = {}, 0, 0
  for _, m in ipairs(measures) do
    local now, before = m.now[s.code], m.before[s.code]
    local growth = nil
    if now ~= nil and before ~= nil and before > 0 then
      growth = (now - before) / before
      total = total + m.weight * growth
      weights = weights + m.weight
    end
    items[#items + 1] = { kpi = m.id, value = now, last_year = before, growth = growth }
  end
  if weights > 0 then
    local score = math.floor(1000 * total / weights + 0.5) / 10   -- percent, one decimal
    rows[#rows + 1] = {
      store = s.code, name = s.name, score = score, items = items,
      grade = score >= 10 and "A" or score >= 0 and "B" or score >= -10 and "C" or "D",
    }
  else
    log(s.code .. " " .. s.name .. ": 去年同期没有数据 / no figures a year earlier")
  end
end
return rows
