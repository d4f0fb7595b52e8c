-- 客户价值分层 / Customer value tiers
--
-- 中文：来源资料把客户分为四层：铂金（最好的 1 %）、黄金（其后 4 %）、铁牌（其后 15 %）、
-- 铅牌（其余 80 %），并指出"企业利润 80 % 由 20 % 的客户创造"。本评分卡把本期有进厂
-- （已结算工单）的客户按售后产值在你能看到的全部门店中统一排队分层，再看每家门店的
-- 产值有多少来自铂金、黄金、铁牌这前 20 % 的高价值客户：得分 = 这三层客户的产值 ÷
-- 门店售后产值 × 100。高价值客户多、留得住的门店得分高；产值主要来自一次性小额
-- 客户的门店得分低。等级按资料的 80/20 结构：A ≥ 70（接近资料的 80 %），B ≥ 60，C ≥ 50，其余 D。
--
-- English: the source documents cut customers into four tiers, platinum
-- (the best 1 %), gold (the next 4 %), iron (the next 15 %) and lead (the
-- remaining 80 %), and say 20 % of customers make 80 % of the profit. This
-- card ranks the customers with closed ROs in the period by after-sales
-- revenue across every store you can see, and scores each store by the
-- share of its revenue that comes from the top 20 % (platinum, gold and
-- iron): score = their revenue / the store's revenue × 100. Stores that
-- win and keep high-value customers score high. Grades along the 80/20
-- structure: A ≥ 70 (near the documents' 80 %), B ≥ 60, C ≥ 50, D.

local tiers = {
  { id = "platinum", zh = "铂金", en = "Platinum", share = 0.01 },
  { id = "gold",     zh = "黄金", en = "Gold", share = 0.04 },
  { id = "iron",     zh = "铁牌", en = "Iron", share = 0.15 },
  { id = "lead",     zh = "铅牌", en = "Lead", share = 0.80 },
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
    s = { customers = 0, revenue = 0, count = {}, amount = {} }
    for i = 1, #tiers do s.count[i], s.amount[i] = 0, 0 end
    per_store[c.store] = s
  end
  s.customers = s.customers + 1
  s.revenue = s.revenue + c.revenue
  s.count[tier_index] = s.count[tier_index] + 1
  s.amount[tier_index] = s.amount[tier_index] + c.revenue
end

local top_tiers = 3   -- platinum, gold and iron: the top 20 %
local rows = {}
for _, store in ipairs(stores()) do
  local s = per_store[store.code]
  if s and s.revenue > 0 then
    local top = 0
    for i = 1, top_tiers do top = top + s.amount[i] end
    local score = math.floor(1000 * top / s.revenue + 0.5) / 10
    local items = {}
    for i, t in ipairs(tiers) do
      items[i] = { kpi = "tier." .. t.id, label = { zh = t.zh .. "客户产值占比", en = t.en .. " share of revenue" },
                   unit = "ratio", value = s.amount[i] / s.revenue, customers = s.count[i], revenue = s.amount[i] }
    end
    rows[#rows + 1] = {
      store = store.code, name = store.name, score = score,
      grade = score >= 70 and "A" or score >= 60 and "B" or score >= 50 and "C" or "D",
      customers = s.customers, revenue = s.revenue, items = items,
    }
  else
    log(store.code .. " " .. store.name .. ": 本期没有客户进厂 / no customer visits in the period")
  end
end
return rows
