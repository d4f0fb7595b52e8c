-- 客户价值分层 / Customer value tiers
--
-- 中文：把本期有进厂（已结算工单）的客户按售后产值从高到低排队，分为四层：
-- 铂金（前 1 %）、黄金（其后 4 %）、铁牌（其后 15 %）、铅牌（其余 80 %）。
-- 分层在你能看到的全部门店中统一排名，再按门店汇总：每层的客户数和产值。
-- 得分 = 客户平均层级（铂金 4、黄金 3、铁牌 2、铅牌 1）换算到 0–100，
-- 高价值客户越多得分越高。等级：A ≥ 40，B ≥ 25，C ≥ 10，其余 D。
--
-- English: ranks the customers with closed ROs in the period by their
-- after-sales revenue and cuts four tiers: platinum (top 1 %), gold (next
-- 4 %), iron (next 15 %) and lead (the remaining 80 %). The ranking spans
-- every store you can see; each store then gets its count and revenue per
-- tier. Score = the average tier (platinum 4, gold 3, iron 2, lead 1) scaled
-- to 0-100: the more high-value customers, the higher. Grades: A ≥ 40,
-- B ≥ 25, C ≥ 10, D.

local tiers = {
  { id = "platinum", zh = "铂金", share = 0.01, weight = 4 },
  { id = "gold",     zh = "黄金", share = 0.04, weight = 3 },
  { id = "iron",     zh = "铁牌", share = 0.15, weight = 2 },
  { id = "lead",     zh = "铅牌", share = 0.80, weight = 1 },
}

local list = customers()
-- highest revenue first; ties by store and customer code so the cut is stable
table.sort(list, function(a, b)
  if a.revenue ~= b.revenue then return a.revenue > b.revenue end
  if a.store ~= b.store then return a.store < b.store end
  return a.code < b.code
end)

-- the last position of each tier: ceil of the cumulative share of the count
local n = #list
local cut, cumulative = {}, 0
for i, t in ipairs(tiers) do
  cumulative = cumulative + t.share
  cut[i] = i == #tiers and n or math.ceil(n * cumulative - 1e-9)
end
log("客户数 / customers: " .. n .. "; 铂金/黄金/铁牌 截止名次 / cut-offs: "
    .. cut[1] .. ", " .. cut[2] .. ", " .. cut[3])

local per_store = {}
local tier_index = 1
for position, c in ipairs(list) do
  while position > cut[tier_index] do tier_index = tier_index + 1 end
  local s = per_store[c.store]
  if not s then
    s = { customers = 0, revenue = 0, points = 0, count = {}, amount = {} }
    for i = 1, #tiers do s.count[i], s.amount[i] = 0, 0 end
    per_store[c.store] = s
  end
  s.customers = s.customers + 1
  s.revenue = s.revenue + c.revenue
  s.points = s.points + tiers[tier_index].weight
  s.count[tier_index] = s.count[tier_index] + 1
  s.amount[tier_index] = s.amount[tier_index] + c.revenue
end

local rows = {}
for _, store in ipairs(stores()) do
  local s = per_store[store.code]
  if s then
    local score = 100 * (s.points / s.customers - 1) / 3
    score = math.floor(score * 10 + 0.5) / 10
    local items = {}
    for i, t in ipairs(tiers) do
      items[i] = { kpi = t.id, label = t.zh, value = s.count[i], revenue = s.amount[i] }
    end
    rows[#rows + 1] = {
      store = store.code, name = store.name, score = score,
      grade = score >= 40 and "A" or score >= 25 and "B" or score >= 10 and "C" or "D",
      customers = s.customers, revenue = s.revenue, items = items,
    }
  else
    log(store.code .. " " .. store.name .. ": 本期没有客户进厂 / no customer visits in the period")
  end
end
return rows
